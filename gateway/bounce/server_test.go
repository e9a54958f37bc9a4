package bounce_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/gateway/bounce"
	"github.com/sealpost/sealpost/gateway/localca"
)

// serverBundle is one running bounce server and what it handed over.
type serverBundle struct {
	srv  *bounce.Server
	addr string
	tls  *tls.Config
	logs *logBuffer
	verp bounce.VERP

	mu      sync.Mutex
	handled [][]bounce.Report
	fail    error
}

func (b *serverBundle) reports() [][]bounce.Report {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([][]bounce.Report(nil), b.handled...)
}

// setupServer starts a bounce server on loopback offering STARTTLS with a
// localca certificate; configure adjusts the config before NewServer.
func setupServer(t *testing.T, configure func(*bounce.ServerConfig)) *serverBundle {
	t.Helper()
	ca, err := localca.New("bounce test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	b := &serverBundle{
		logs: new(logBuffer),
		verp: testVERP(),
		tls: &tls.Config{RootCAs: ca.Pool(), ServerName: "127.0.0.1",
			MinVersion: tls.VersionTLS12},
	}
	cfg := bounce.ServerConfig{
		VERP: b.verp,
		TLS: &tls.Config{Certificates: []tls.Certificate{cert},
			MinVersion: tls.VersionTLS12},
	}
	if configure != nil {
		configure(&cfg)
	}
	handle := func(_ context.Context, reports []bounce.Report) error {
		b.mu.Lock()
		defer b.mu.Unlock()
		if b.fail != nil {
			return b.fail
		}
		b.handled = append(b.handled, reports)
		return nil
	}
	logger := slog.New(slog.NewJSONHandler(b.logs,
		&slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := bounce.NewServer(cfg, handle, logger)
	if err != nil {
		t.Fatalf("new server: %v", err)
	}
	b.srv = srv

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	t.Cleanup(func() {
		_ = srv.Close()
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
	})
	b.addr = l.Addr().String()
	return b
}

// dial opens a client, upgraded with STARTTLS unless plain is set.
func (b *serverBundle) dial(t *testing.T, plain bool) *smtp.Client {
	t.Helper()
	var c *smtp.Client
	var err error
	if plain {
		c, err = smtp.Dial(b.addr)
	} else {
		c, err = smtp.DialStartTLS(b.addr, b.tls)
	}
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// sample reads a corpus message with its placeholder return path replaced
// by addr.
func sample(t *testing.T, name, addr string) []byte {
	t.Helper()
	raw, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return bytes.ReplaceAll(raw, []byte("bounces+placeholder@mail.example.test"), []byte(addr))
}

func smtpCode(err error) int {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code
	}
	return 0
}

// checkLogsClean fails if the server logged an address or returned content.
func (b *serverBundle) checkLogsClean(t *testing.T, needles ...string) {
	t.Helper()
	logs := b.logs.String()
	for _, n := range append(needles, "bounces+", "@example.test", "Subject") {
		if strings.Contains(logs, n) {
			t.Fatalf("log contains %q:\n%s", n, logs)
		}
	}
}

func TestServerDSNOverStartTLS(t *testing.T) {
	t.Parallel()
	b := setupServer(t, func(c *bounce.ServerConfig) { c.RequireTLS = true })
	verpAddr := b.verp.Address(testMessageID)
	c := b.dial(t, false)
	if _, ok := c.TLSConnectionState(); !ok {
		t.Fatal("client not on TLS")
	}

	msg := sample(t, "dsn-postfix-hard.eml", verpAddr)
	err := c.SendMail("", []string{strings.ToUpper(verpAddr)}, bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	if err := c.Quit(); err != nil {
		t.Fatalf("quit: %v", err)
	}

	got := b.reports()
	want := bounce.Report{Kind: bounce.KindBounce, MessageID: testMessageID,
		Recipient: "lee@example.test", Status: "5.1.1", Action: "failed", Hard: true,
		OriginalMessageID: "0195a1b2-0003@mail.example.test"}
	if len(got) != 1 || len(got[0]) != 1 || got[0][0] != want {
		t.Fatalf("handled %+v, want [[%+v]]", got, want)
	}
	if !strings.Contains(b.logs.String(), `"hard":1`) {
		t.Fatalf("log lacks the hard count:\n%s", b.logs.String())
	}
	b.checkLogsClean(t, "lee@", testMessageID[:8])
}

func TestServerRefusesUnknownRecipient(t *testing.T) {
	t.Parallel()
	b := setupServer(t, nil)
	t.Cleanup(func() { b.checkLogsClean(t) })
	other := b.verp
	other.Secret = []byte("fedcba9876543210fedcba9876543210")
	for _, tc := range []struct {
		name string
		rcpt string
	}{
		{"stranger", "pat@example.test"},
		{"forged token", other.Address(testMessageID)},
		{"verp on another domain", strings.Replace(b.verp.Address(testMessageID),
			"mail.example.test", "attacker.test", 1)},
		{"abuse at another domain", "abuse@attacker.test"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := b.dial(t, false)
			if err := c.Mail("", nil); err != nil {
				t.Fatal(err)
			}
			err := c.Rcpt(tc.rcpt, nil)
			var se *smtp.SMTPError
			if !errors.As(err, &se) || se.Code != 550 ||
				se.EnhancedCode != (smtp.EnhancedCode{5, 1, 1}) {
				t.Fatalf("RCPT err = %v, want 550 5.1.1", err)
			}
			if strings.Contains(se.Message, "@") {
				t.Fatalf("reply echoes the address: %q", se.Message)
			}
		})
	}
}

func TestServerARFToAbuseCorrelatesByReturnPath(t *testing.T) {
	t.Parallel()
	b := setupServer(t, nil)
	c := b.dial(t, false)

	msg := sample(t, "arf-abuse-full.eml", b.verp.Address(testMessageID))
	err := c.SendMail("feedback@fbl.example.test", []string{"Abuse@Mail.Example.Test"},
		bytes.NewReader(msg))
	if err != nil {
		t.Fatalf("send: %v", err)
	}
	forged := sample(t, "arf-auth-failure.eml", "unused@example.test")
	if err := c.SendMail("", []string{"postmaster"}, bytes.NewReader(forged)); err != nil {
		t.Fatalf("send forged: %v", err)
	}

	got := b.reports()
	if len(got) != 2 {
		t.Fatalf("handled %d messages, want 2", len(got))
	}
	if r := got[0][0]; r.Kind != bounce.KindComplaint || r.MessageID != testMessageID ||
		r.FeedbackType != "abuse" || r.Recipient != "zoe@example.test" {
		t.Fatalf("complaint = %+v", r)
	}
	if r := got[1][0]; r.MessageID != "" || r.FeedbackType != "auth-failure" {
		t.Fatalf("report with a foreign return path correlated: %+v", r)
	}
	b.checkLogsClean(t, "zoe@")
}

func TestServerHandlerFailureIs451(t *testing.T) {
	t.Parallel()
	b := setupServer(t, nil)
	b.fail = errors.New("store unavailable")
	c := b.dial(t, false)
	msg := sample(t, "dsn-gmail-hard.eml", "x@example.test")
	err := c.SendMail("", []string{b.verp.Address(testMessageID)}, bytes.NewReader(msg))
	if smtpCode(err) != 451 {
		t.Fatalf("err = %v, want 451", err)
	}
}

func TestServerIgnoresNonReport(t *testing.T) {
	t.Parallel()
	b := setupServer(t, nil)
	c := b.dial(t, false)
	msg := sample(t, "text-autoreply.eml", "x@example.test")
	if err := c.SendMail("", []string{b.verp.Address(testMessageID)},
		bytes.NewReader(msg)); err != nil {
		t.Fatalf("send: %v", err)
	}
	if got := b.reports(); len(got) != 0 {
		t.Fatalf("handled %+v", got)
	}
	if !strings.Contains(b.logs.String(), "not_a_report") {
		t.Fatalf("ignore not logged:\n%s", b.logs.String())
	}
	b.checkLogsClean(t, "Out of office", "pat.doe")
}

func TestServerOneMessagePerTransaction(t *testing.T) {
	t.Parallel()
	b := setupServer(t, nil)
	c := b.dial(t, false)
	if err := c.Mail("", nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(b.verp.Address(testMessageID), nil); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt(b.verp.Address(testMessageID), nil); err != nil {
		t.Fatalf("same address twice: %v", err)
	}
	err := c.Rcpt(b.verp.Address("9b2f6c1e-8d4a-4f3b-9e2d-1a2b3c4d5e6f"), nil)
	if smtpCode(err) != 452 {
		t.Fatalf("second message id: err = %v, want 452", err)
	}
}

func TestServerRequireTLS(t *testing.T) {
	t.Parallel()
	b := setupServer(t, func(c *bounce.ServerConfig) { c.RequireTLS = true })
	c := b.dial(t, true)
	if err := c.Mail("", nil); smtpCode(err) != 530 {
		t.Fatalf("MAIL before STARTTLS: err = %v, want 530", err)
	}
}

func TestServerConnectionLimits(t *testing.T) {
	t.Parallel()
	b := setupServer(t, func(c *bounce.ServerConfig) {
		c.MaxMessagesPerConn = 2
		c.MaxMessageBytes = 4096
	})
	c := b.dial(t, false)
	rcpt := []string{b.verp.Address(testMessageID)}

	line := []byte(strings.Repeat("a", 62) + "\r\n")
	big := append([]byte("Subject: x\r\n\r\n"), bytes.Repeat(line, 128)...)
	if err := c.SendMail("", rcpt, bytes.NewReader(big)); smtpCode(err) != 552 {
		t.Fatalf("oversized message: err = %v, want 552", err)
	}
	msg := sample(t, "dsn-gmail-hard.eml", "x@example.test")
	if err := c.SendMail("", rcpt, bytes.NewReader(msg)); err != nil {
		t.Fatalf("second message: %v", err)
	}
	if err := c.SendMail("", rcpt, bytes.NewReader(msg)); smtpCode(err) != 421 {
		t.Fatalf("third message: err = %v, want 421", err)
	}
}

func TestNewServerValidates(t *testing.T) {
	t.Parallel()
	handle := func(context.Context, []bounce.Report) error { return nil }
	if _, err := bounce.NewServer(bounce.ServerConfig{}, handle, nil); !errors.Is(err,
		bounce.ErrInvalidVERP) {
		t.Fatalf("empty VERP: err = %v", err)
	}
	if _, err := bounce.NewServer(bounce.ServerConfig{VERP: testVERP()}, nil,
		nil); !errors.Is(err, bounce.ErrNoHandler) {
		t.Fatalf("nil handler: err = %v", err)
	}
}
