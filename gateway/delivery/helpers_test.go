package delivery_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"flag"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/localca"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

// testCA signs every certificate the test relays present.
var testCA *localca.CA

func TestMain(m *testing.M) {
	ca, err := localca.New("delivery test CA")
	if err != nil {
		log.Fatalf("create test ca: %v", err)
	}
	testCA = ca
	goleak.VerifyTestMain(m)
}

// canary stands in for PHI that must never cross the wire in clear.
const canary = "PHI-CANARY-7f3a9c"

const (
	sender    = "noreply@example.test"
	recipient = "pat@example.test"
)

func message(subject string) []byte {
	return []byte("From: <" + sender + ">\r\nTo: <" + recipient + ">\r\nSubject: " + subject +
		"\r\n\r\nYour order shipped.\r\n" + canary + "\r\n.leading dot\r\n")
}

func envelope() delivery.Envelope {
	return delivery.Envelope{From: sender, To: []string{recipient}}
}

// received is one message as the test relay stored it.
type received struct {
	from string
	to   []string
	data []byte
	user string
}

// backend is a go-smtp backend that records what it was given and can be
// told to refuse recipients or data.
type backend struct {
	requireAuth bool
	rcptErr     func(to string) error
	dataErr     func(data []byte) error
	// dataBlock, when set, keeps Data from returning until it is closed.
	dataBlock chan struct{}

	mu       sync.Mutex
	messages []received
	commands int // MAIL, RCPT and DATA calls, successful or not
	logouts  int
}

func (b *backend) NewSession(*smtp.Conn) (smtp.Session, error) {
	return &testSession{b: b}, nil
}

func (b *backend) hooks() (func(string) error, func([]byte) error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.rcptErr, b.dataErr
}

// accept makes the backend take everything from now on.
func (b *backend) accept() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rcptErr, b.dataErr = nil, nil
}

func (b *backend) snapshot() (msgs []received, commands, logouts int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]received(nil), b.messages...), b.commands, b.logouts
}

type testSession struct {
	b    *backend
	user string
	cur  received
}

func (s *testSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (s *testSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != "relay-user" || pass != "relay-secret-pw" {
			return errors.New("invalid credentials")
		}
		s.user = user
		return nil
	}), nil
}

func (s *testSession) count() {
	s.b.mu.Lock()
	s.b.commands++
	s.b.mu.Unlock()
}

func (s *testSession) Mail(from string, _ *smtp.MailOptions) error {
	s.count()
	if s.b.requireAuth && s.user == "" {
		return smtp.ErrAuthRequired
	}
	s.cur = received{from: from, user: s.user}
	return nil
}

func (s *testSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.count()
	if rcptErr, _ := s.b.hooks(); rcptErr != nil {
		if err := rcptErr(to); err != nil {
			return err
		}
	}
	s.cur.to = append(s.cur.to, to)
	return nil
}

func (s *testSession) Data(r io.Reader) error {
	s.count()
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if s.b.dataBlock != nil {
		<-s.b.dataBlock
	}
	if _, dataErr := s.b.hooks(); dataErr != nil {
		if err := dataErr(data); err != nil {
			return err
		}
	}
	s.cur.data = data
	s.b.mu.Lock()
	s.b.messages = append(s.b.messages, s.cur)
	s.b.mu.Unlock()
	return nil
}

func (s *testSession) Reset() { s.cur = received{} }

func (s *testSession) Logout() error {
	s.b.mu.Lock()
	s.b.logouts++
	s.b.mu.Unlock()
	return nil
}

// recorder wraps a listener and keeps every byte the server reads, per
// connection: what an observer on the wire would see.
type recorder struct {
	net.Listener

	mu    sync.Mutex
	conns []*bytes.Buffer
}

func (l *recorder) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	buf := new(bytes.Buffer)
	l.mu.Lock()
	l.conns = append(l.conns, buf)
	l.mu.Unlock()
	return &recordedConn{Conn: c, l: l, buf: buf}, nil
}

// wire returns the bytes read on each accepted connection.
func (l *recorder) wire() [][]byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := make([][]byte, len(l.conns))
	for i, b := range l.conns {
		out[i] = bytes.Clone(b.Bytes())
	}
	return out
}

type recordedConn struct {
	net.Conn
	l   *recorder
	buf *bytes.Buffer
}

func (c *recordedConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.l.mu.Lock()
	c.buf.Write(p[:n])
	c.l.mu.Unlock()
	return n, err
}

// relayOptions shapes a test relay.
type relayOptions struct {
	// tlsConfig enables STARTTLS (or implicit TLS); nil offers no TLS.
	tlsConfig *tls.Config
	implicit  bool
	backend   *backend
}

type testRelay struct {
	addr    *net.TCPAddr
	backend *backend
	rec     *recorder
}

// startRelay runs a go-smtp server on loopback until the test ends.
func startRelay(t testing.TB, opts relayOptions) *testRelay {
	t.Helper()
	if opts.backend == nil {
		opts.backend = &backend{}
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	rec := &recorder{Listener: l}

	srv := smtp.NewServer(opts.backend)
	srv.Domain = "relay.example.test"
	srv.ErrorLog = log.New(io.Discard, "", 0)
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.TLSConfig = opts.tlsConfig

	var serving net.Listener = rec
	if opts.implicit {
		serving = tls.NewListener(rec, opts.tlsConfig)
		srv.TLSConfig = nil
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(serving)
	}()
	t.Cleanup(func() {
		if opts.backend.dataBlock != nil {
			select {
			case <-opts.backend.dataBlock:
			default:
				close(opts.backend.dataBlock)
			}
		}
		_ = srv.Close()
		<-done
	})

	return &testRelay{addr: l.Addr().(*net.TCPAddr), backend: opts.backend, rec: rec}
}

// serverTLS returns a server TLS config presenting cert.
func serverTLS(cert tls.Certificate) *tls.Config {
	return &tls.Config{Certificates: []tls.Certificate{cert}}
}

// goodCert is a valid certificate for the loopback relay.
func goodCert(t testing.TB) tls.Certificate {
	t.Helper()
	cert, err := testCA.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatalf("issue: %v", err)
	}
	return cert
}

// config returns a client config for addr trusting the test CA.
func config(addr *net.TCPAddr, mode delivery.TLSMode) delivery.Config {
	return delivery.Config{
		Host:     "127.0.0.1",
		Port:     addr.Port,
		TLSMode:  mode,
		RootCAs:  testCA.Pool(),
		HeloName: "sealpost.example.test",
	}
}

func newRelay(t testing.TB, cfg delivery.Config) *delivery.Relay {
	t.Helper()
	r, err := delivery.NewRelay(cfg, nil)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	t.Cleanup(func() { _ = r.Close() })
	return r
}

// asError unwraps the *delivery.Error every Send failure must be.
func asError(t *testing.T, err error) *delivery.Error {
	t.Helper()
	var e *delivery.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *delivery.Error", err, err)
	}
	return e
}

// chainTexts returns the text of err and of every error it wraps.
func chainTexts(err error) []string {
	if err == nil {
		return nil
	}
	out := []string{err.Error()}
	switch u := err.(type) {
	case interface{ Unwrap() error }:
		out = append(out, chainTexts(u.Unwrap())...)
	case interface{ Unwrap() []error }:
		for _, e := range u.Unwrap() {
			out = append(out, chainTexts(e)...)
		}
	}
	return out
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden: %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s mismatch\ngot:  %q\nwant: %q", name, got, want)
	}
}
