package delivery_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/gateway/delivery"
)

func TestSend(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name     string
		mode     delivery.TLSMode
		implicit bool
		auth     bool
	}{
		{name: "starttls", mode: delivery.StartTLS},
		{name: "implicit tls", mode: delivery.ImplicitTLS, implicit: true},
		{name: "starttls with auth plain", mode: delivery.StartTLS, auth: true},
		{name: "implicit tls with auth plain", mode: delivery.ImplicitTLS, implicit: true,
			auth: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startRelay(t, relayOptions{
				tlsConfig: serverTLS(goodCert(t)),
				implicit:  tt.implicit,
				backend:   &backend{requireAuth: tt.auth},
			})
			cfg := config(srv.addr, tt.mode)
			if tt.auth {
				cfg.Username, cfg.Password = "relay-user", "relay-secret-pw"
			}
			relay := newRelay(t, cfg)

			msg := message("Your order shipped")
			receipt, err := relay.Send(context.Background(), envelope(), msg)
			if err != nil {
				t.Fatalf("send: %v", err)
			}

			if receipt.Code != 250 || receipt.EnhancedCode != "2.0.0" {
				t.Errorf("receipt = %d %q, want 250 2.0.0", receipt.Code, receipt.EnhancedCode)
			}
			if receipt.TLSVersion != tls.VersionTLS13 {
				t.Errorf("tls version = %x, want TLS 1.3", receipt.TLSVersion)
			}
			if receipt.Reused {
				t.Error("first message reported a reused connection")
			}
			msgs, _, _ := srv.backend.snapshot()
			if len(msgs) != 1 {
				t.Fatalf("relay stored %d messages, want 1", len(msgs))
			}
			got := msgs[0]
			if got.from != sender || len(got.to) != 1 || got.to[0] != recipient {
				t.Errorf("envelope = %q -> %q", got.from, got.to)
			}
			if !bytes.Equal(got.data, msg) {
				t.Errorf("relay received %q, want the exact message %q", got.data, msg)
			}
			if tt.auth && got.user != "relay-user" {
				t.Errorf("authenticated user = %q", got.user)
			}
			for _, wire := range srv.rec.wire() {
				for _, secret := range []string{canary, "relay-secret-pw", "MAIL FROM"} {
					if bytes.Contains(wire, []byte(secret)) {
						t.Errorf("%q crossed the wire in clear", secret)
					}
				}
			}
		})
	}
}

// TestSendCleartextTranscript pins every byte the client writes before TLS
// on a STARTTLS session: EHLO and STARTTLS, nothing else.
func TestSendCleartextTranscript(t *testing.T) {
	t.Parallel()
	srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
	relay := newRelay(t, config(srv.addr, delivery.StartTLS))

	if _, err := relay.Send(context.Background(), envelope(), message("hi")); err != nil {
		t.Fatalf("send: %v", err)
	}

	wire := srv.rec.wire()
	if len(wire) != 1 {
		t.Fatalf("relay saw %d connections, want 1", len(wire))
	}
	const marker = "STARTTLS\r\n"
	i := bytes.Index(wire[0], []byte(marker))
	if i < 0 {
		t.Fatalf("no STARTTLS on the wire: %q", wire[0])
	}
	clear, rest := wire[0][:i+len(marker)], wire[0][i+len(marker):]
	golden(t, "starttls_cleartext.golden", clear)
	if len(rest) == 0 || rest[0] != 0x16 {
		t.Errorf("bytes after STARTTLS do not start a TLS handshake record: % x", rest[:1])
	}
}

func TestSendReusesConnections(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name        string
		perConn     int
		sends       int
		wantConns   int
		wantReused  int
		wantLogouts int
	}{
		{name: "one connection for all", perConn: 0, sends: 5, wantConns: 1, wantReused: 4},
		{name: "replaced after max messages", perConn: 2, sends: 5, wantConns: 3,
			wantReused: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
			cfg := config(srv.addr, delivery.StartTLS)
			cfg.MaxMessagesPerConn = tt.perConn
			relay := newRelay(t, cfg)

			reused := 0
			for i := range tt.sends {
				receipt, err := relay.Send(context.Background(), envelope(),
					message(fmt.Sprintf("message %d", i)))
				if err != nil {
					t.Fatalf("send %d: %v", i, err)
				}
				if receipt.Reused {
					reused++
				}
			}

			if reused != tt.wantReused {
				t.Errorf("reused = %d, want %d", reused, tt.wantReused)
			}
			if conns := len(srv.rec.wire()); conns != tt.wantConns {
				t.Errorf("connections = %d, want %d", conns, tt.wantConns)
			}
			msgs, _, _ := srv.backend.snapshot()
			for i, m := range msgs {
				if want := fmt.Sprintf("Subject: message %d\r\n", i); !bytes.Contains(m.data,
					[]byte(want)) {
					t.Errorf("message %d out of order or mixed: %q", i, m.data)
				}
			}
		})
	}
}

func TestSendConcurrent(t *testing.T) {
	t.Parallel()
	srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
	cfg := config(srv.addr, delivery.StartTLS)
	cfg.MaxConns = 4
	relay := newRelay(t, cfg)

	const workers, perWorker = 16, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*perWorker)
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				subject := fmt.Sprintf("w%d-m%d", w, i)
				if _, err := relay.Send(context.Background(), envelope(),
					message(subject)); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("send: %v", err)
	}

	msgs, _, _ := srv.backend.snapshot()
	if len(msgs) != workers*perWorker {
		t.Errorf("relay stored %d messages, want %d", len(msgs), workers*perWorker)
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		seen[string(m.data)] = true
	}
	if len(seen) != workers*perWorker {
		t.Errorf("distinct messages = %d, want %d", len(seen), workers*perWorker)
	}
	if conns := len(srv.rec.wire()); conns > cfg.MaxConns {
		t.Errorf("opened %d connections, pool size is %d", conns, cfg.MaxConns)
	}
}

func TestIdleConnectionsClosed(t *testing.T) {
	t.Parallel()
	srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
	cfg := config(srv.addr, delivery.StartTLS)
	cfg.IdleTimeout = 100 * time.Millisecond
	relay := newRelay(t, cfg)

	if _, err := relay.Send(context.Background(), envelope(), message("one")); err != nil {
		t.Fatalf("send: %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		// One logout follows STARTTLS, the other the QUIT.
		if _, _, logouts := srv.backend.snapshot(); logouts >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("idle connection was not closed")
		}
		time.Sleep(20 * time.Millisecond)
	}

	receipt, err := relay.Send(context.Background(), envelope(), message("two"))
	if err != nil {
		t.Fatalf("send after idle close: %v", err)
	}
	if receipt.Reused {
		t.Error("message used a connection that should have been retired")
	}
}

func TestClose(t *testing.T) {
	t.Parallel()
	srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
	relay := newRelay(t, config(srv.addr, delivery.StartTLS))

	if _, err := relay.Send(context.Background(), envelope(), message("one")); err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := relay.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}

	wire := srv.rec.wire()
	if len(wire) != 1 {
		t.Fatalf("connections = %d, want 1", len(wire))
	}
	_, err := relay.Send(context.Background(), envelope(), message("two"))
	if !errors.Is(err, delivery.ErrClosed) {
		t.Fatalf("send after close: err = %v, want ErrClosed", err)
	}
	// The server runs Logout after it has answered QUIT, so it may trail
	// Close by a moment.
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, _, logouts := srv.backend.snapshot()
		if logouts >= 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("relay saw no QUIT before close (logouts = %d)", logouts)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestReplyClassification(t *testing.T) {
	t.Parallel()

	// Relays often echo the address in their reply text.
	echo := func(code int, ec smtp.EnhancedCode) func(string) error {
		return func(to string) error {
			return &smtp.SMTPError{Code: code, EnhancedCode: ec, Message: "No such user " + to}
		}
	}
	echoData := func(code int, ec smtp.EnhancedCode) func([]byte) error {
		return func(data []byte) error {
			return &smtp.SMTPError{Code: code, EnhancedCode: ec,
				Message: "Rejected " + recipient + " " + string(data[:20])}
		}
	}

	tests := []struct {
		name      string
		backend   *backend
		wantPhase string
		wantCode  int
		wantEC    string
		wantTemp  bool
	}{
		{name: "rcpt 4xx is temporary", backend: &backend{rcptErr: echo(451,
			smtp.EnhancedCode{4, 3, 0})}, wantPhase: delivery.PhaseRcpt, wantCode: 451,
			wantEC: "4.3.0", wantTemp: true},
		{name: "rcpt 5xx is permanent", backend: &backend{rcptErr: echo(550,
			smtp.EnhancedCode{5, 1, 1})}, wantPhase: delivery.PhaseRcpt, wantCode: 550,
			wantEC: "5.1.1"},
		{name: "rcpt 5xx without enhanced code", backend: &backend{rcptErr: echo(553,
			smtp.NoEnhancedCode)}, wantPhase: delivery.PhaseRcpt, wantCode: 553},
		{name: "data 4xx is temporary", backend: &backend{dataErr: echoData(452,
			smtp.EnhancedCode{4, 3, 1})}, wantPhase: delivery.PhaseFinalDot, wantCode: 452,
			wantEC: "4.3.1", wantTemp: true},
		{name: "data 5xx is permanent", backend: &backend{dataErr: echoData(554,
			smtp.EnhancedCode{5, 6, 0})}, wantPhase: delivery.PhaseFinalDot, wantCode: 554,
			wantEC: "5.6.0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := startRelay(t, relayOptions{
				tlsConfig: serverTLS(goodCert(t)),
				backend:   tt.backend,
			})
			relay := newRelay(t, config(srv.addr, delivery.StartTLS))

			_, err := relay.Send(context.Background(), envelope(), message("hello"))
			e := asError(t, err)
			if e.Phase != tt.wantPhase || e.Code != tt.wantCode || e.EnhancedCode != tt.wantEC {
				t.Errorf("error = %s %d %q, want %s %d %q", e.Phase, e.Code, e.EnhancedCode,
					tt.wantPhase, tt.wantCode, tt.wantEC)
			}
			if e.Temporary != tt.wantTemp || e.Unknown {
				t.Errorf("temporary = %v unknown = %v, want %v false", e.Temporary, e.Unknown,
					tt.wantTemp)
			}
			if e.Reason() != "reply" {
				t.Errorf("reason = %q, want reply", e.Reason())
			}
			for _, text := range chainTexts(err) {
				if strings.Contains(text, "example.test") || strings.Contains(text, "From:") {
					t.Errorf("error text leaks reply text: %q", text)
				}
			}

			// A refused transaction retires its connection.
			srv.backend.accept()
			receipt, err := relay.Send(context.Background(), envelope(), message("again"))
			if err != nil {
				t.Fatalf("send after refusal: %v", err)
			}
			if receipt.Reused {
				t.Error("connection reused after a refusal")
			}
		})
	}
}

// TestCaseBL08BareLineBreaksRefused pins that message bytes the dot-encoder
// would rewrite (and so break DKIM, or smuggle a second message) and
// envelopes that could inject commands are refused before any connection.
func TestCaseBL08BareLineBreaksRefused(t *testing.T) {
	t.Parallel()
	srv := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
	relay := newRelay(t, config(srv.addr, delivery.StartTLS))

	smuggle := "Subject: hi\r\n\r\nok\n.\r\nMAIL FROM:<noreply@example.test>\r\n"
	many := make([]string, delivery.MaxRecipients+1)
	for i := range many {
		many[i] = recipient
	}
	tests := []struct {
		name    string
		env     delivery.Envelope
		msg     string
		wantErr error
	}{
		{name: "bare lf before dot", env: envelope(), msg: smuggle,
			wantErr: delivery.ErrInvalidMessage},
		{name: "lf dot lf", env: envelope(), msg: "Subject: hi\r\n\r\nok\n.\nx\r\n",
			wantErr: delivery.ErrInvalidMessage},
		{name: "crlf dot cr", env: envelope(), msg: "Subject: hi\r\n\r\nok\r\n.\rx\r\n",
			wantErr: delivery.ErrInvalidMessage},
		{name: "lone cr", env: envelope(), msg: "Subject: hi\r\n\r\nok\rno\r\n",
			wantErr: delivery.ErrInvalidMessage},
		{name: "trailing cr", env: envelope(), msg: "Subject: hi\r\n\r\nok\r",
			wantErr: delivery.ErrInvalidMessage},
		{name: "nul", env: envelope(), msg: "Subject: hi\r\n\r\nok\x00\r\n",
			wantErr: delivery.ErrInvalidMessage},
		{name: "line over 998 octets", env: envelope(),
			msg:     "Subject: hi\r\n\r\n" + strings.Repeat("a", 999) + "\r\n",
			wantErr: delivery.ErrInvalidMessage},
		{name: "empty message", env: envelope(), msg: "", wantErr: delivery.ErrInvalidMessage},
		{name: "crlf in recipient", env: delivery.Envelope{From: sender,
			To: []string{recipient + "\r\nRCPT TO:<spy@attacker.test>"}}, msg: "x\r\n",
			wantErr: delivery.ErrInvalidEnvelope},
		{name: "bracket in sender", env: delivery.Envelope{From: sender + "> SIZE=1",
			To: []string{recipient}}, msg: "x\r\n", wantErr: delivery.ErrInvalidEnvelope},
		{name: "no recipients", env: delivery.Envelope{From: sender}, msg: "x\r\n",
			wantErr: delivery.ErrInvalidEnvelope},
		{name: "too many recipients", env: delivery.Envelope{From: sender, To: many},
			msg: "x\r\n", wantErr: delivery.ErrInvalidEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := relay.Send(context.Background(), tt.env, []byte(tt.msg))
			e := asError(t, err)
			if !errors.Is(err, tt.wantErr) || e.Phase != delivery.PhaseMessage || e.Temporary {
				t.Errorf("err = %v (phase %s, temporary %v), want permanent %v", err, e.Phase,
					e.Temporary, tt.wantErr)
			}
			for _, text := range chainTexts(err) {
				if strings.Contains(text, "example.test") || strings.Contains(text, "MAIL") {
					t.Errorf("error text echoes input: %q", text)
				}
			}
		})
	}

	t.Run("nothing reached the relay", func(t *testing.T) {
		t.Parallel()
		_, _ = relay.Send(context.Background(), envelope(), []byte(smuggle))
		if conns := len(srv.rec.wire()); conns != 0 {
			t.Errorf("relay saw %d connections, want 0", conns)
		}
	})

	t.Run("null reverse path is allowed", func(t *testing.T) {
		t.Parallel()
		other := startRelay(t, relayOptions{tlsConfig: serverTLS(goodCert(t))})
		r := newRelay(t, config(other.addr, delivery.StartTLS))
		env := delivery.Envelope{To: []string{recipient}}
		if _, err := r.Send(context.Background(), env, message("bounce")); err != nil {
			t.Fatalf("send with null reverse path: %v", err)
		}
	})
}

func TestNewRelayValidatesConfig(t *testing.T) {
	t.Parallel()
	valid := delivery.Config{Host: "relay.example.test", Port: 587}

	tests := []struct {
		name   string
		modify func(*delivery.Config)
	}{
		{name: "no host", modify: func(c *delivery.Config) { c.Host = "" }},
		{name: "host with newline", modify: func(c *delivery.Config) { c.Host = "a\r\nb" }},
		{name: "port zero", modify: func(c *delivery.Config) { c.Port = 0 }},
		{name: "port too large", modify: func(c *delivery.Config) { c.Port = 70000 }},
		{name: "plaintext mode", modify: func(c *delivery.Config) { c.TLSMode = "none" }},
		{name: "user without password", modify: func(c *delivery.Config) { c.Username = "u" }},
		{name: "password without user", modify: func(c *delivery.Config) {
			c.Password = "relay-secret-pw"
		}},
		{name: "negative pool", modify: func(c *delivery.Config) { c.MaxConns = -1 }},
		{name: "negative timeout", modify: func(c *delivery.Config) {
			c.FinalDotTimeout = -time.Second
		}},
		{name: "helo with space", modify: func(c *delivery.Config) { c.HeloName = "a b" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cfg := valid
			cfg.Password = ""
			tt.modify(&cfg)
			_, err := delivery.NewRelay(cfg, nil)
			if !errors.Is(err, delivery.ErrInvalidConfig) {
				t.Fatalf("err = %v, want ErrInvalidConfig", err)
			}
			if strings.Contains(err.Error(), "relay-secret-pw") {
				t.Errorf("error prints the password: %v", err)
			}
		})
	}

	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		r, err := delivery.NewRelay(valid, nil)
		if err != nil {
			t.Fatalf("valid config refused: %v", err)
		}
		_ = r.Close()
	})
}

func TestConfigRedactsPassword(t *testing.T) {
	t.Parallel()
	cfg := delivery.Config{Host: "relay.example.test", Port: 587, Username: "relay-user",
		Password: "relay-secret-pw"}

	var logged bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelDebug}))
	logger.Info("config", "relay", cfg)
	r, err := delivery.NewRelay(cfg, logger)
	if err != nil {
		t.Fatalf("new relay: %v", err)
	}
	_ = r.Close()

	outputs := map[string]string{
		"%v":  fmt.Sprintf("%v", cfg),
		"%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg),
		"log": logged.String(),
	}
	for name, out := range outputs {
		if strings.Contains(out, "relay-secret-pw") {
			t.Errorf("%s prints the password: %s", name, out)
		}
	}
}
