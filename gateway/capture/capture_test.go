package capture_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/capture"
	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/localca"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

const (
	sender    = "noreply@example.test"
	recipient = "pat@example.test"
)

// bundle is one running capture server and a relay client aimed at it.
type bundle struct {
	srv   *capture.Server
	dir   string
	relay *delivery.Relay
	logs  *bytes.Buffer
}

// setup starts a capture server on loopback with a localca certificate;
// configure adjusts it before Serve.
func setup(t *testing.T, configure func(*capture.Server)) *bundle {
	t.Helper()
	ca, err := localca.New("capture test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "inbox")
	logs := new(bytes.Buffer)
	logger := slog.New(slog.NewJSONHandler(&lockedWriter{w: logs},
		&slog.HandlerOptions{Level: slog.LevelDebug}))
	srv, err := capture.New(dir, cert, logger)
	if err != nil {
		t.Fatalf("new: %v", err)
	}
	if configure != nil {
		configure(srv)
	}

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

	relay, err := delivery.NewRelay(delivery.Config{
		Host:    "127.0.0.1",
		Port:    l.Addr().(*net.TCPAddr).Port,
		TLSMode: delivery.StartTLS,
		RootCAs: ca.Pool(),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = relay.Close() })

	return &bundle{srv: srv, dir: dir, relay: relay, logs: logs}
}

func (b *bundle) send(t *testing.T, msg []byte, to ...string) {
	t.Helper()
	if len(to) == 0 {
		to = []string{recipient}
	}
	env := delivery.Envelope{From: sender, To: to}
	if _, err := b.relay.Send(context.Background(), env, msg); err != nil {
		t.Fatalf("send: %v", err)
	}
}

func message(subject string) []byte {
	return []byte("From: <" + sender + ">\r\nTo: <" + recipient + ">\r\nSubject: " + subject +
		"\r\n\r\nHello.\r\n.dot-stuffed line\r\n")
}

func TestCaptureRoundTrip(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	msg := message("=?UTF-8?Q?Bestellung_versandt_=E2=9C=93?=")
	b.send(t, msg, recipient, "sam@example.test")

	items, err := b.srv.List()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	if len(items) != 1 {
		t.Fatalf("items = %d, want 1", len(items))
	}
	it := items[0]
	if it.From != sender || strings.Join(it.To, ",") != recipient+",sam@example.test" {
		t.Errorf("envelope = %q -> %q", it.From, it.To)
	}
	if it.Subject != "Bestellung versandt ✓" {
		t.Errorf("subject = %q", it.Subject)
	}
	if it.TLSVersion != "TLS 1.3" || it.Size != len(msg) {
		t.Errorf("tls = %q size = %d, want TLS 1.3 and %d", it.TLSVersion, it.Size, len(msg))
	}
	if time.Since(it.ReceivedAt) > time.Minute {
		t.Errorf("received at %v", it.ReceivedAt)
	}
	if url.PathEscape(it.ID) != it.ID {
		t.Errorf("id %q is not URL-safe", it.ID)
	}

	rc, err := b.srv.Open(it.ID)
	if err != nil {
		t.Fatalf("open: %v", err)
	}
	got, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Errorf("stored %q, want exactly %q", got, msg)
	}

	entries, err := os.ReadDir(b.dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		info, err := e.Info()
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != 0o600 {
			t.Errorf("%s mode = %o, want 600", e.Name(), info.Mode().Perm())
		}
	}
	if len(entries) != 2 {
		t.Errorf("inbox holds %d files, want message and sidecar", len(entries))
	}

	logs := b.logs.String()
	if strings.Contains(logs, "example.test") || strings.Contains(logs, "Bestellung") {
		t.Errorf("logs carry addresses or content: %s", logs)
	}
	if !strings.Contains(logs, it.ID) {
		t.Errorf("capture not logged by id: %s", logs)
	}
}

func TestListNewestFirst(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	for i := range 3 {
		b.send(t, message(fmt.Sprintf("message %d", i)))
	}

	items, err := b.srv.List()
	if err != nil {
		t.Fatalf("list: %v", err)
	}
	var subjects []string
	for _, it := range items {
		subjects = append(subjects, it.Subject)
	}
	if got := strings.Join(subjects, ","); got != "message 2,message 1,message 0" {
		t.Errorf("order = %s", got)
	}
	if got := b.srv.Received(); got != 3 {
		t.Errorf("received = %d, want 3", got)
	}
}

// TestMailWithoutStartTLSRejected speaks SMTP in plaintext and expects MAIL
// to be refused with 530 5.7.0.
func TestMailWithoutStartTLSRejected(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	addr := b.srv.Addr()
	if addr == nil {
		deadline := time.Now().Add(2 * time.Second)
		for addr == nil && time.Now().Before(deadline) {
			time.Sleep(10 * time.Millisecond)
			addr = b.srv.Addr()
		}
	}
	c, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	br := bufio.NewReader(c)

	readReply := func() string {
		t.Helper()
		var last string
		for {
			line, err := br.ReadString('\n')
			if err != nil {
				t.Fatalf("read reply: %v", err)
			}
			last = line
			if len(line) < 4 || line[3] != '-' {
				return last
			}
		}
	}
	readReply()
	fmt.Fprintf(c, "EHLO client.example.test\r\n")
	readReply()
	fmt.Fprintf(c, "MAIL FROM:<%s>\r\n", sender)
	if got := readReply(); !strings.HasPrefix(got, "530 5.7.0") {
		t.Errorf("MAIL before STARTTLS answered %q, want 530 5.7.0", got)
	}
	fmt.Fprintf(c, "QUIT\r\n")
	readReply()

	if items, _ := b.srv.List(); len(items) != 0 || b.srv.Received() != 0 {
		t.Errorf("a plaintext session stored %d messages", len(items))
	}
}

func TestOpenRejectsPathTraversal(t *testing.T) {
	t.Parallel()
	b := setup(t, nil)
	b.send(t, message("hi"))
	secret := filepath.Join(filepath.Dir(b.dir), "secret.eml")
	if err := os.WriteFile(secret, []byte("outside"), 0o600); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name    string
		id      string
		wantErr error
	}{
		{name: "parent dir", id: "../secret", wantErr: capture.ErrInvalidID},
		{name: "dot dot", id: "..", wantErr: capture.ErrInvalidID},
		{name: "absolute path", id: "/etc/passwd", wantErr: capture.ErrInvalidID},
		{name: "separator", id: "0000000000000000/0000000", wantErr: capture.ErrInvalidID},
		{name: "encoded dots", id: "%2e%2e%2fsecret", wantErr: capture.ErrInvalidID},
		{name: "empty", id: "", wantErr: capture.ErrInvalidID},
		{name: "upper case", id: "0000000000000000ABCDEF00", wantErr: capture.ErrInvalidID},
		{name: "nul", id: "00000000000000000000000\x00", wantErr: capture.ErrInvalidID},
		{name: "well formed but absent", id: "0000000000000000abcdef00",
			wantErr: capture.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			rc, err := b.srv.Open(tt.id)
			if err == nil {
				rc.Close()
			}
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("open(%q) err = %v, want %v", tt.id, err, tt.wantErr)
			}
		})
	}
}

func TestDiscardCountsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, func(s *capture.Server) { s.Discard = true })
	for i := range 5 {
		b.send(t, message(fmt.Sprintf("m%d", i)))
	}

	if got := b.srv.Received(); got != 5 {
		t.Errorf("received = %d, want 5", got)
	}
	items, err := b.srv.List()
	if err != nil || len(items) != 0 {
		t.Errorf("list = %d items, err %v; want none stored", len(items), err)
	}
	if entries, _ := os.ReadDir(b.dir); len(entries) != 0 {
		t.Errorf("inbox holds %d files in discard mode", len(entries))
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	b := setup(t, func(s *capture.Server) {
		s.MaxMessageBytes = 1024
		s.MaxRecipients = 2
	})

	tests := []struct {
		name      string
		to        []string
		msg       []byte
		wantPhase string
	}{
		{name: "message too large", to: []string{recipient},
			msg: append(message("big"), bytes.Repeat([]byte("x\r\n"), 1024)...),
			// The SIZE parameter lets the server refuse before any data.
			wantPhase: delivery.PhaseMail},
		{name: "too many recipients",
			to:        []string{"a@example.test", "b@example.test", "c@example.test"},
			msg:       message("many"),
			wantPhase: delivery.PhaseRcpt},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := delivery.Envelope{From: sender, To: tt.to}
			_, err := b.relay.Send(context.Background(), env, tt.msg)
			var e *delivery.Error
			if !errors.As(err, &e) || e.Phase != tt.wantPhase || e.Code < 400 {
				t.Fatalf("err = %v, want a refusal at %s", err, tt.wantPhase)
			}
		})
	}
}

func TestListenAndServeRequiresLoopback(t *testing.T) {
	t.Parallel()
	srv, err := capture.New(t.TempDir(), mustCert(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"0.0.0.0:0", ":0", "[::]:0", "192.0.2.1:2525"} {
		if err := srv.ListenAndServe(addr); !errors.Is(err, capture.ErrNotLoopback) {
			t.Errorf("listen on %s: err = %v, want ErrNotLoopback", addr, err)
		}
	}
}

func TestShutdown(t *testing.T) {
	t.Parallel()
	srv, err := capture.New(t.TempDir(), mustCert(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe("127.0.0.1:0") }()
	deadline := time.Now().Add(2 * time.Second)
	for srv.Addr() == nil && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if srv.Addr() == nil {
		t.Fatal("server never listened")
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := srv.Shutdown(ctx); err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("serve after shutdown: %v", err)
	}
}

func mustCert(t *testing.T) tls.Certificate {
	t.Helper()
	ca, err := localca.New("capture test CA")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := ca.Issue("127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	return cert
}
