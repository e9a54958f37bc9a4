package delivery_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/localca"
)

// TestCaseBL12NoCleartextFallback pins that a relay which strips STARTTLS or
// offers TLS that does not verify never sees MAIL, RCPT, DATA, AUTH or a
// message byte, and that the failure is a retryable TLS-policy error.
func TestCaseBL12NoCleartextFallback(t *testing.T) {
	t.Parallel()

	otherCA, err := localca.New("untrusted CA")
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := otherCA.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	past := time.Now().Add(-72 * time.Hour)
	expired, err := testCA.IssueWith(localca.IssueOptions{
		Hosts: []string{"127.0.0.1"}, NotBefore: past, NotAfter: past.Add(24 * time.Hour),
	})
	if err != nil {
		t.Fatal(err)
	}
	wrongName, err := testCA.Issue("other.example.test")
	if err != nil {
		t.Fatal(err)
	}
	failing := &tls.Config{GetCertificate: func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
		return nil, errors.New("no certificate")
	}}
	oldTLS := serverTLS(goodCert(t))
	oldTLS.MinVersion, oldTLS.MaxVersion = tls.VersionTLS10, tls.VersionTLS11

	tests := []struct {
		name       string
		tlsConfig  *tls.Config
		modes      []delivery.TLSMode
		wantPhase  string
		wantErr    error
		wantReason string
	}{
		{name: "a no starttls advertised", tlsConfig: nil,
			modes: []delivery.TLSMode{delivery.StartTLS}, wantPhase: delivery.PhaseStartTLS,
			wantErr: delivery.ErrNoStartTLS, wantReason: "no_starttls"},
		{name: "b handshake fails", tlsConfig: failing, wantPhase: delivery.PhaseTLS,
			wantErr: delivery.ErrTLSHandshake, wantReason: "tls_handshake"},
		{name: "c expired certificate", tlsConfig: serverTLS(expired),
			wantPhase: delivery.PhaseTLS, wantErr: delivery.ErrCertExpired,
			wantReason: "cert_expired"},
		{name: "d untrusted certificate", tlsConfig: serverTLS(untrusted),
			wantPhase: delivery.PhaseTLS, wantErr: delivery.ErrCertUntrusted,
			wantReason: "cert_untrusted"},
		{name: "e hostname mismatch", tlsConfig: serverTLS(wrongName),
			wantPhase: delivery.PhaseTLS, wantErr: delivery.ErrCertName,
			wantReason: "cert_name_mismatch"},
		{name: "f server max tls 1.1", tlsConfig: oldTLS, wantPhase: delivery.PhaseTLS,
			wantErr: delivery.ErrTLSVersion, wantReason: "tls_version"},
	}
	for _, tt := range tests {
		modes := tt.modes
		if modes == nil {
			modes = []delivery.TLSMode{delivery.StartTLS, delivery.ImplicitTLS}
		}
		for _, mode := range modes {
			t.Run(tt.name+" "+string(mode), func(t *testing.T) {
				t.Parallel()
				srv := startRelay(t, relayOptions{
					tlsConfig: tt.tlsConfig,
					implicit:  mode == delivery.ImplicitTLS,
				})
				cfg := config(srv.addr, mode)
				cfg.Username, cfg.Password = "relay-user", "relay-secret-pw"
				relay := newRelay(t, cfg)

				_, err := relay.Send(context.Background(), envelope(), message("hi"))

				e := asError(t, err)
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("err = %v, want %v", err, tt.wantErr)
				}
				if e.Phase != tt.wantPhase || !e.Temporary || e.Unknown || e.Code != 0 {
					t.Errorf("error = %+v, want temporary, phase %s", *e, tt.wantPhase)
				}
				if e.Reason() != tt.wantReason {
					t.Errorf("reason = %q, want %q", e.Reason(), tt.wantReason)
				}
				if _, commands, _ := srv.backend.snapshot(); commands != 0 {
					t.Errorf("relay saw %d MAIL/RCPT/DATA commands, want 0", commands)
				}
				for _, wire := range srv.rec.wire() {
					for _, s := range []string{canary, "MAIL FROM", "RCPT TO", "DATA",
						"AUTH", recipient, "relay-secret-pw"} {
						if bytes.Contains(wire, []byte(s)) {
							t.Errorf("%q crossed the wire: %q", s, wire)
						}
					}
				}
			})
		}
	}

	t.Run("a cleartext transcript", func(t *testing.T) {
		t.Parallel()
		srv := startRelay(t, relayOptions{})
		relay := newRelay(t, config(srv.addr, delivery.StartTLS))
		_, _ = relay.Send(context.Background(), envelope(), message("hi"))
		wire := srv.rec.wire()
		if len(wire) != 1 {
			t.Fatalf("connections = %d, want 1", len(wire))
		}
		golden(t, "no_starttls_cleartext.golden", wire[0])
	})
}

// tarpit is a raw TCP peer that misbehaves on purpose.
type tarpit struct {
	l    net.Listener
	done chan struct{}
	wg   sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

// startTarpit serves each connection with handle until the test ends.
func startTarpit(t *testing.T, handle func(c net.Conn, done <-chan struct{})) *net.TCPAddr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	tp := &tarpit{l: l, done: make(chan struct{})}
	tp.wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			tp.mu.Lock()
			tp.conns = append(tp.conns, c)
			tp.mu.Unlock()
			tp.wg.Go(func() { handle(c, tp.done) })
		}
	})
	t.Cleanup(func() {
		close(tp.done)
		_ = l.Close()
		tp.mu.Lock()
		for _, c := range tp.conns {
			_ = c.Close()
		}
		tp.mu.Unlock()
		tp.wg.Wait()
	})
	return l.Addr().(*net.TCPAddr)
}

// silent reads and discards until the connection closes.
func silent(c net.Conn, _ <-chan struct{}) {
	buf := make([]byte, 1024)
	for {
		if _, err := c.Read(buf); err != nil {
			return
		}
	}
}

// drip writes s one byte every two seconds.
func drip(c net.Conn, done <-chan struct{}, s string) {
	for i := range len(s) {
		if _, err := c.Write([]byte{s[i]}); err != nil {
			return
		}
		select {
		case <-done:
			return
		case <-time.After(2 * time.Second):
		}
	}
}

// untilStartTLS plays a relay up to the 220 reply to STARTTLS.
func untilStartTLS(c net.Conn) bool {
	br := bufio.NewReader(c)
	if _, err := c.Write([]byte("220 tarpit ready\r\n")); err != nil {
		return false
	}
	if _, err := br.ReadString('\n'); err != nil {
		return false
	}
	if _, err := c.Write([]byte("250-tarpit\r\n250 STARTTLS\r\n")); err != nil {
		return false
	}
	if _, err := br.ReadString('\n'); err != nil {
		return false
	}
	_, err := c.Write([]byte("220 go ahead\r\n"))
	return err == nil
}

// shortTimeouts returns cfg with every phase limited to d.
func shortTimeouts(cfg delivery.Config, d time.Duration) delivery.Config {
	cfg.DialTimeout, cfg.GreetingTimeout, cfg.HandshakeTimeout = d, d, d
	cfg.CommandTimeout, cfg.DataTimeout, cfg.FinalDotTimeout = d, d, d
	return cfg
}

// TestCaseBL13Tarpit pins that a relay which stalls at any point cannot hold
// Send beyond the phase deadline, and that a lost reply to the final "."
// is reported as an unknown outcome.
func TestCaseBL13Tarpit(t *testing.T) {
	t.Parallel()
	const limit = 300 * time.Millisecond

	tests := []struct {
		name        string
		mode        delivery.TLSMode
		handle      func(net.Conn, <-chan struct{})
		wantPhase   string
		wantUnknown bool
	}{
		{name: "a no greeting", mode: delivery.StartTLS, handle: silent,
			wantPhase: delivery.PhaseGreeting},
		{name: "b stall in starttls handshake", mode: delivery.StartTLS,
			handle: func(c net.Conn, done <-chan struct{}) {
				if untilStartTLS(c) {
					silent(c, done)
				}
			}, wantPhase: delivery.PhaseTLS},
		{name: "b stall in implicit tls handshake", mode: delivery.ImplicitTLS, handle: silent,
			wantPhase: delivery.PhaseTLS},
		{name: "c greeting one byte per two seconds", mode: delivery.StartTLS,
			handle: func(c net.Conn, done <-chan struct{}) {
				go silent(c, done)
				drip(c, done, "220 tarpit ready\r\n")
			}, wantPhase: delivery.PhaseGreeting},
		{name: "c ehlo reply one byte per two seconds", mode: delivery.StartTLS,
			handle: func(c net.Conn, done <-chan struct{}) {
				br := bufio.NewReader(c)
				if _, err := c.Write([]byte("220 ready\r\n")); err != nil {
					return
				}
				if _, err := br.ReadString('\n'); err != nil {
					return
				}
				drip(c, done, "250-tarpit\r\n250 STARTTLS\r\n")
			}, wantPhase: delivery.PhaseEHLO},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			addr := startTarpit(t, tt.handle)
			relay := newRelay(t, shortTimeouts(config(addr, tt.mode), limit))

			start := time.Now()
			_, err := relay.Send(context.Background(), envelope(), message("hi"))
			elapsed := time.Since(start)

			e := asError(t, err)
			if e.Phase != tt.wantPhase || !e.Temporary || e.Unknown {
				t.Errorf("error = %+v (%v), want temporary phase %s", *e, err, tt.wantPhase)
			}
			if !errors.Is(err, delivery.ErrTimeout) {
				t.Errorf("err = %v, want ErrTimeout", err)
			}
			if elapsed > 4*limit {
				t.Errorf("send took %v with a %v phase deadline", elapsed, limit)
			}
		})
	}

	t.Run("d no reply to the final dot", func(t *testing.T) {
		t.Parallel()
		srv := startRelay(t, relayOptions{
			tlsConfig: serverTLS(goodCert(t)),
			backend:   &backend{dataBlock: make(chan struct{})},
		})
		cfg := config(srv.addr, delivery.StartTLS)
		cfg.FinalDotTimeout = limit
		relay := newRelay(t, cfg)

		start := time.Now()
		_, err := relay.Send(context.Background(), envelope(), message("hi"))
		elapsed := time.Since(start)

		e := asError(t, err)
		if e.Phase != delivery.PhaseFinalDot || !e.Temporary || !e.Unknown {
			t.Errorf("error = %+v, want temporary unknown final_dot", *e)
		}
		if !errors.Is(err, delivery.ErrOutcomeUnknown) || !errors.Is(err, delivery.ErrTimeout) {
			t.Errorf("err = %v, want ErrOutcomeUnknown wrapping ErrTimeout", err)
		}
		if e.Reason() != "outcome_unknown" {
			t.Errorf("reason = %q", e.Reason())
		}
		if elapsed > 4*limit {
			t.Errorf("send took %v with a %v final dot deadline", elapsed, limit)
		}
	})
}

// TestSendHonoursContext pins that cancellation ends a stalled Send at once
// even when the phase deadlines are long.
func TestSendHonoursContext(t *testing.T) {
	t.Parallel()

	blockingRelay := func(t *testing.T) delivery.Config {
		srv := startRelay(t, relayOptions{
			tlsConfig: serverTLS(goodCert(t)),
			backend:   &backend{dataBlock: make(chan struct{})},
		})
		return config(srv.addr, delivery.StartTLS)
	}
	tarpitRelay := func(t *testing.T) delivery.Config {
		return config(startTarpit(t, silent), delivery.StartTLS)
	}

	tests := []struct {
		name        string
		setup       func(*testing.T) delivery.Config
		cancel      bool // cancel, or let a context deadline pass
		wantErr     error
		wantPhase   string
		wantUnknown bool
	}{
		{name: "cancel while waiting for greeting", setup: tarpitRelay, cancel: true,
			wantErr: context.Canceled, wantPhase: delivery.PhaseGreeting},
		{name: "deadline while waiting for greeting", setup: tarpitRelay,
			wantErr: context.DeadlineExceeded, wantPhase: delivery.PhaseGreeting},
		{name: "cancel while waiting after the final dot", setup: blockingRelay, cancel: true,
			wantErr: context.Canceled, wantPhase: delivery.PhaseFinalDot, wantUnknown: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			relay := newRelay(t, tt.setup(t))

			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			if tt.cancel {
				ctx, cancel = context.WithCancel(context.Background())
				defer cancel()
				time.AfterFunc(200*time.Millisecond, cancel)
			}

			start := time.Now()
			_, err := relay.Send(ctx, envelope(), message("hi"))
			elapsed := time.Since(start)

			e := asError(t, err)
			if !errors.Is(err, tt.wantErr) || e.Phase != tt.wantPhase || !e.Temporary ||
				e.Unknown != tt.wantUnknown {
				t.Errorf("error = %+v (%v), want %v in %s, unknown %v", *e, err, tt.wantErr,
					tt.wantPhase, tt.wantUnknown)
			}
			if elapsed > time.Second {
				t.Errorf("send returned %v after start, long after the context ended", elapsed)
			}
		})
	}
}
