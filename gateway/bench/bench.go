// Package bench measures the running pipeline end to end: HTTP API →
// transaction (message + job) → River → render → MIME → DKIM (RSA-2048) →
// SMTP over TLS to a sink on loopback. It runs a real gateway in this
// process against a fresh database and prints throughput and latency.
//
// Two phases: a saturation run (as many concurrent clients as asked, as fast
// as they can) that gives the delivered throughput, then a paced run at half
// that rate that gives the latencies a service sees when it is not
// overloaded.
package bench

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/app"
	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/localca"
	"github.com/sealpost/sealpost/gateway/store"
)

// Options select the run.
type Options struct {
	DatabaseURL string // "" = SQLite in a temporary directory
	Messages    int
	Concurrency int
	PacedFor    time.Duration
	Workers     int
	Out         io.Writer
}

// Result holds the figures of one run.
type Result struct {
	Database        string
	Messages        int
	Concurrency     int
	AcceptRate      float64
	DeliveredRate   float64
	AcceptP50       time.Duration
	AcceptP99       time.Duration
	DeliveryP50     time.Duration
	DeliveryP99     time.Duration
	PacedRate       float64
	PacedAcceptP50  time.Duration
	PacedAcceptP99  time.Duration
	PacedDeliverP50 time.Duration
	PacedDeliverP99 time.Duration
}

// Run builds a gateway, drives it and prints the figures.
func Run(ctx context.Context, o Options) (*Result, error) {
	dir, err := os.MkdirTemp("", "sealpost-bench-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)

	env, err := start(ctx, dir, o)
	if err != nil {
		return nil, err
	}
	defer env.stop()

	res := &Result{Database: env.dbName, Messages: o.Messages, Concurrency: o.Concurrency}

	// Warm up connections, caches and River's producer.
	if _, err := env.drive(ctx, 200, o.Concurrency, 0); err != nil {
		return nil, err
	}

	sat, err := env.drive(ctx, o.Messages, o.Concurrency, 0)
	if err != nil {
		return nil, err
	}
	res.AcceptRate = float64(o.Messages) / sat.acceptSpan.Seconds()
	res.DeliveredRate = float64(o.Messages) / sat.deliverSpan.Seconds()
	res.AcceptP50, res.AcceptP99 = pct(sat.accept, 50), pct(sat.accept, 99)
	res.DeliveryP50, res.DeliveryP99 = pct(sat.deliver, 50), pct(sat.deliver, 99)

	res.PacedRate = res.DeliveredRate / 2
	n := int(res.PacedRate * o.PacedFor.Seconds())
	paced, err := env.drive(ctx, max(n, 1), o.Concurrency, res.PacedRate)
	if err != nil {
		return nil, err
	}
	res.PacedAcceptP50, res.PacedAcceptP99 = pct(paced.accept, 50), pct(paced.accept, 99)
	res.PacedDeliverP50, res.PacedDeliverP99 = pct(paced.deliver, 50), pct(paced.deliver, 99)
	return res, nil
}

// Print writes the figures as a small report.
func (r *Result) Print(w io.Writer) {
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 1, 64) + " ms" }
	fmt.Fprintf(w, "database        %s\n", r.Database)
	fmt.Fprintf(w, "pipeline        HTTP API -> %s (message + River job) -> render -> MIME -> "+
		"DKIM RSA-2048 -> SMTP STARTTLS (TLS 1.3) sink on loopback\n", r.Database)
	fmt.Fprintf(
		w,
		"saturation      %d messages, %d concurrent clients\n",
		r.Messages,
		r.Concurrency,
	)
	fmt.Fprintf(w, "  accepted      %.0f msgs/s   p50 %s   p99 %s (request -> 202)\n",
		r.AcceptRate, ms(r.AcceptP50), ms(r.AcceptP99))
	fmt.Fprintf(w, "  delivered     %.0f msgs/s   p50 %s   p99 %s (202 -> received by the sink)\n",
		r.DeliveredRate, ms(r.DeliveryP50), ms(r.DeliveryP99))
	fmt.Fprintf(w, "half load       %.0f msgs/s paced\n", r.PacedRate)
	fmt.Fprintf(w, "  accept        p50 %s   p99 %s\n", ms(r.PacedAcceptP50), ms(r.PacedAcceptP99))
	fmt.Fprintf(
		w,
		"  delivery      p50 %s   p99 %s\n",
		ms(r.PacedDeliverP50),
		ms(r.PacedDeliverP99),
	)
}

func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (len(s)*p + 99) / 100
	return s[min(max(i-1, 0), len(s)-1)]
}

type env struct {
	dbName string
	base   string
	key    string
	client *http.Client
	sink   *sink
	stop   func()
	seq    atomic.Int64
}

func start(ctx context.Context, dir string, o Options) (*env, error) {
	ca, err := localca.New("Sealpost Bench CA")
	if err != nil {
		return nil, err
	}
	sk, err := startSink(ca)
	if err != nil {
		return nil, err
	}
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o600); err != nil {
		return nil, err
	}
	ks, err := dkim.OpenKeystore(filepath.Join(dir, "dkim"))
	if err != nil {
		return nil, err
	}
	k, err := dkim.Generate(dkim.RSA, "bench.example.test", "s1")
	if err != nil {
		return nil, err
	}
	if err := ks.Save(k); err != nil {
		return nil, err
	}

	db, err := store.Open(ctx, o.DatabaseURL, dir)
	if err != nil {
		return nil, err
	}
	if _, err := db.MigrateUp(ctx); err != nil {
		db.Close()
		return nil, err
	}
	key, _, err := apikey.Create(ctx, db, "bench", []apikey.Role{apikey.Sender, apikey.Admin})
	db.Close()
	if err != nil {
		return nil, err
	}

	cfg, err := config.Load("", map[string]string{
		"SEALPOST_DATA_DIR": dir, "SEALPOST_DATABASE_URL": o.DatabaseURL,
		"SEALPOST_HTTP_ADDR": "127.0.0.1:0", "SEALPOST_FROM": "Bench Shop <noreply@bench.example.test>",
		"SEALPOST_RELAY_HOST": "127.0.0.1", "SEALPOST_RELAY_PORT": strconv.Itoa(sk.port),
		"SEALPOST_RELAY_CA_FILE": caFile, "SEALPOST_DKIM_DIR": filepath.Join(dir, "dkim"),
		"SEALPOST_WORKERS": strconv.Itoa(o.Workers), "SEALPOST_LOG_LEVEL": "error",
	})
	if err != nil {
		return nil, err
	}
	a, err := app.New(
		ctx,
		app.Options{Config: cfg, Logger: slog.New(slog.DiscardHandler), Out: io.Discard},
	)
	if err != nil {
		return nil, err
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	e := &env{
		dbName: "SQLite", base: "http://" + a.HTTPAddr(), key: key, sink: sk,
		client: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: o.Concurrency + 4}},
	}
	if o.DatabaseURL != "" {
		e.dbName = "PostgreSQL"
	}
	e.stop = func() {
		cancel()
		<-done
		sk.close()
	}
	tmpl := map[string]any{
		"subject": "Your {{.shop_name}} order {{.order_number}} has shipped",
		"text": "Hi {{.first_name}},\n\nGood news: order {{.order_number}} is on its way.\n" +
			"Track it at {{.tracking_url}}\n\nThank you for shopping with {{.shop_name}}.\n",
		"html": "<p>Hi {{.first_name}},</p><p>Good news: order <strong>{{.order_number}}</strong> " +
			"is on its way.</p><p><a href=\"{{.tracking_url}}\">Track your parcel</a></p>" +
			"<p>Thank you for shopping with {{.shop_name}}.</p>",
		"variables": map[string]any{
			"first_name":   map[string]any{"type": "string", "required": true},
			"order_number": map[string]any{"type": "string", "required": true},
			"shop_name":    map[string]any{"type": "string", "required": true},
			"tracking_url": map[string]any{"type": "url", "required": true},
		},
	}
	if status, err := e.call(ctx, "PUT", "/v1/templates/order-shipped", tmpl, nil); err != nil ||
		status != 201 {
		e.stop()
		return nil, fmt.Errorf("save bench template: status %d: %v", status, err)
	}
	return e, nil
}

func (e *env) call(
	ctx context.Context,
	method, path string,
	body any,
	hdr map[string]string,
) (int, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, method, e.base+path, bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+e.key)
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res.StatusCode, nil
}

type run struct {
	accept      []time.Duration
	deliver     []time.Duration
	acceptSpan  time.Duration
	deliverSpan time.Duration
}

// drive posts n messages from c clients, at rate messages/s when rate > 0,
// and waits until the sink has received them all.
func (e *env) drive(ctx context.Context, n, c int, rate float64) (*run, error) {
	first := e.seq.Load() + 1
	e.seq.Add(int64(n))
	accepted := make([]time.Time, n)
	acceptLat := make([]time.Duration, n)
	var next atomic.Int64
	var failed atomic.Int64
	start := time.Now()
	var wg sync.WaitGroup
	for range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= n {
					return
				}
				if rate > 0 {
					due := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
					time.Sleep(time.Until(due))
				}
				seq := first + int64(i)
				msg := map[string]any{
					"template": "order-shipped",
					"to": map[string]any{
						"email": "customer" + strconv.FormatInt(seq, 10) + "@example.test",
						"name":  "Pat Doe",
					},
					"data": map[string]any{
						"first_name":   "Pat",
						"order_number": "A-" + strconv.FormatInt(seq, 10),
						"shop_name":    "Acme Pharmacy",
						"tracking_url": "https://track.example.test/A-" + strconv.FormatInt(
							seq,
							10,
						),
					},
					"headers": map[string]any{"X-Bench-Seq": strconv.FormatInt(seq, 10)},
				}
				t0 := time.Now()
				status, err := e.call(ctx, "POST", "/v1/messages", msg, nil)
				if err != nil || status != http.StatusAccepted {
					failed.Add(1)
					continue
				}
				accepted[i] = time.Now()
				acceptLat[i] = accepted[i].Sub(t0)
			}
		}()
	}
	wg.Wait()
	acceptSpan := time.Since(start)
	if f := failed.Load(); f > 0 {
		return nil, fmt.Errorf("%d requests were not accepted", f)
	}

	deadline := time.Now().Add(5*time.Minute + time.Duration(n)*10*time.Millisecond)
	arrivals, err := e.sink.wait(ctx, first, int64(n), deadline)
	if err != nil {
		return nil, err
	}
	r := &run{accept: acceptLat, acceptSpan: acceptSpan}
	var last time.Time
	for i := range n {
		at := arrivals[i]
		r.deliver = append(r.deliver, at.Sub(accepted[i]))
		if at.After(last) {
			last = at
		}
	}
	r.deliverSpan = last.Sub(start)
	return r, nil
}

// sink is a go-smtp server that requires STARTTLS and records when each
// bench message (by its X-Bench-Seq header) arrived.
type sink struct {
	srv  *smtp.Server
	port int
	mu   sync.Mutex
	seen map[int64]time.Time
	more chan struct{}
}

func startSink(ca *localca.CA) (*sink, error) {
	cert, err := ca.Issue("localhost", "127.0.0.1")
	if err != nil {
		return nil, err
	}
	s := &sink{seen: map[int64]time.Time{}, more: make(chan struct{}, 1)}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.TLSConfig = &tls.Config{
		Certificates: []tls.Certificate{cert},
		MinVersion:   tls.VersionTLS12,
	}
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	s.srv.ErrorLog = discardLog{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.port = l.Addr().(*net.TCPAddr).Port
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

func (s *sink) close() { s.srv.Close() }

func (s *sink) wait(ctx context.Context, first, n int64, deadline time.Time) ([]time.Time, error) {
	for {
		s.mu.Lock()
		got := 0
		out := make([]time.Time, n)
		for i := range n {
			if t, ok := s.seen[first+i]; ok {
				out[i] = t
				got++
			}
		}
		s.mu.Unlock()
		if int64(got) == n {
			return out, nil
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("only %d of %d messages arrived", got, n)
		}
		select {
		case <-s.more:
		case <-time.After(50 * time.Millisecond):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

func (s *sink) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &sinkSession{s: s, c: c}, nil
}

type sinkSession struct {
	s *sink
	c *smtp.Conn
}

func (ss *sinkSession) Mail(string, *smtp.MailOptions) error {
	if _, ok := ss.c.TLSConnectionState(); !ok {
		return &smtp.SMTPError{
			Code:         530,
			EnhancedCode: smtp.EnhancedCode{5, 7, 0},
			Message:      "STARTTLS first",
		}
	}
	return nil
}
func (ss *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (ss *sinkSession) Reset()                               {}
func (ss *sinkSession) Logout() error                        { return nil }

var seqHeader = []byte("\r\nX-Bench-Seq: ")

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	now := time.Now()
	i := bytes.Index(b, seqHeader)
	if i < 0 {
		return nil
	}
	rest := b[i+len(seqHeader):]
	end := bytes.IndexByte(rest, '\r')
	if end < 0 {
		return nil
	}
	seq, err := strconv.ParseInt(string(rest[:end]), 10, 64)
	if err != nil {
		return nil
	}
	ss.s.mu.Lock()
	ss.s.seen[seq] = now
	ss.s.mu.Unlock()
	select {
	case ss.s.more <- struct{}{}:
	default:
	}
	return nil
}

type discardLog struct{}

func (discardLog) Printf(string, ...any) {}
func (discardLog) Println(...any)        {}
