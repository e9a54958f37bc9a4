package app_test

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"strings"
	"testing"
	"time"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/gateway/localca"
	"github.com/sealpost/sealpost/gateway/smtptest"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
)

// eachDB runs fn as a parallel subtest against each database.
func eachDB(t *testing.T, fn func(t *testing.T, d migrations.Dialect)) {
	t.Helper()
	for _, d := range storetest.Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, d)
		})
	}
}

func TestEndToEnd(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())

		got := b.waitStatus(t, id, "sent")
		if got["attempts"].(float64) != 1 || got["last_reply_code"].(float64) != 250 {
			t.Fatalf("status after send: %v", got)
		}
		msgs := b.sink.WaitMessages(1, 5*time.Second)
		if len(msgs) != 1 {
			t.Fatalf("relay received %d messages, want 1", len(msgs))
		}
		rcv := msgs[0]
		if rcv.TLSVersion < tls.VersionTLS12 {
			t.Fatalf("received over TLS version %x, want >= 1.2", rcv.TLSVersion)
		}
		if rcv.From != "noreply@shop.example.test" || len(rcv.To) != 1 ||
			rcv.To[0] != "pat@example.test" {
			t.Fatalf("envelope = %q -> %q", rcv.From, rcv.To)
		}

		// DKIM verifies against the TXT record the operator publishes.
		verifications, err := msgauth.VerifyWithOptions(
			bytes.NewReader(rcv.Data),
			&msgauth.VerifyOptions{
				LookupTXT: func(name string) ([]string, error) {
					if name != b.dkimKey.RecordName() {
						return nil, errors.New("no such record")
					}
					return []string{b.dkimKey.TXTRecord()}, nil
				},
			},
		)
		if err != nil || len(verifications) != 1 || verifications[0].Err != nil {
			t.Fatalf("DKIM: %v %+v", err, verifications)
		}

		m, err := mail.ReadMessage(bytes.NewReader(rcv.Data))
		if err != nil {
			t.Fatal(err)
		}
		if s := m.Header.Get("Subject"); s != "Your Acme order A-1001 has shipped" {
			t.Fatalf("subject = %q", s)
		}
		if !strings.Contains(m.Header.Get("Message-ID"), "@shop.example.test>") {
			t.Fatalf("Message-ID not on the sending domain: %q", m.Header.Get("Message-ID"))
		}
		text, html := parts(t, m)
		if !strings.Contains(text, "Order A-1001 is on its way.") ||
			!strings.Contains(html, "<b>A-1001</b>") {
			t.Fatalf("bodies: %q / %q", text, html)
		}
	})
}

func parts(t *testing.T, m *mail.Message) (text, html string) {
	t.Helper()
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", mt, err)
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err == io.EOF {
			return text, html
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		switch {
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain"):
			text = string(b)
		case strings.HasPrefix(p.Header.Get("Content-Type"), "text/html"):
			html = string(b)
		}
	}
}

func TestImplicitTLSRelay(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{sink: smtptest.Options{ImplicitTLS: true}})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())
		b.waitStatus(t, id, "sent")
	})
}

// Case BL-12: a relay that cannot give us verified TLS 1.2+ receives nothing;
// the message is deferred with the reason and retried later.
func TestCaseBL12NoCleartextFallback(t *testing.T) {
	t.Parallel()
	otherCA, err := localca.New("Someone Else's CA")
	if err != nil {
		t.Fatal(err)
	}
	untrusted, err := otherCA.Issue("localhost", "127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	ourCA, err := localca.New("Sealpost Test CA")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := ourCA.IssueWith(localca.IssueOptions{Hosts: []string{"localhost", "127.0.0.1"},
		NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	wrongName, err := ourCA.Issue("mail.elsewhere.test")
	if err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name   string
		opts   smtptest.Options
		reason string
	}{
		{"no STARTTLS offered", smtptest.Options{NoSTARTTLS: true}, "STARTTLS"},
		{"untrusted certificate", smtptest.Options{Cert: &untrusted}, "certificate"},
		{"expired certificate", smtptest.Options{CA: ourCA, Cert: &expired}, "certificate"},
		{"hostname mismatch", smtptest.Options{CA: ourCA, Cert: &wrongName}, "certificate"},
		{"TLS 1.1 only", smtptest.Options{MaxTLSVersion: tls.VersionTLS11}, "TLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachDB(t, func(t *testing.T, d migrations.Dialect) {
				b := setup(t, d, setupOpts{sink: tt.opts})
				b.putOrderTemplate(t)
				id := b.send(t, orderMessage())
				got := b.waitStatus(t, id, "deferred")
				reason, _ := got["last_error"].(string)
				if !strings.Contains(strings.ToLower(reason), strings.ToLower(tt.reason)) {
					t.Fatalf("reason %q does not mention %q", reason, tt.reason)
				}
				if mails, rcpts, datas := b.sink.Commands(); mails+rcpts+datas != 0 {
					t.Fatalf("relay saw MAIL %d, RCPT %d, DATA %d; want none", mails, rcpts, datas)
				}
			})
		})
	}
}

func TestRelayReplies(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		opts       smtptest.Options
		wantStatus string
		wantCode   float64
	}{
		{"5xx at RCPT fails", smtptest.Options{RcptReply: smtptest.ErrPermanent}, "failed", 550},
		{"4xx at DATA defers", smtptest.Options{DataReply: smtptest.ErrTemporary}, "deferred", 451},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			eachDB(t, func(t *testing.T, d migrations.Dialect) {
				b := setup(t, d, setupOpts{sink: tt.opts})
				b.putOrderTemplate(t)
				id := b.send(t, orderMessage())
				got := b.waitStatus(t, id, tt.wantStatus)
				if got["last_reply_code"] != tt.wantCode {
					t.Fatalf("last_reply_code = %v, want %v", got["last_reply_code"], tt.wantCode)
				}
				if strings.Contains(string(mustJSON(got)), "pat@example.test") {
					t.Fatal("status echoes the recipient")
				}
			})
		})
	}
}

func TestIdempotencyOverHTTP(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		first := b.send(t, orderMessage(), "Idempotency-Key", "order-A-1001-shipped")

		res := b.do(
			t,
			"POST",
			"/v1/messages",
			b.sender,
			orderMessage(),
			"Idempotency-Key",
			"order-A-1001-shipped",
		)
		if res.status != http.StatusAccepted || res.json(t)["id"] != first ||
			res.header.Get("Idempotent-Replayed") != "true" {
			t.Fatalf("replay: %d %s", res.status, res.body)
		}

		changed := orderMessage()
		changed["data"].(map[string]any)["order_number"] = "A-1002"
		res = b.do(
			t,
			"POST",
			"/v1/messages",
			b.sender,
			changed,
			"Idempotency-Key",
			"order-A-1001-shipped",
		)
		if res.status != http.StatusConflict {
			t.Fatalf("same key, different body: %d %s", res.status, res.body)
		}

		b.waitStatus(t, first, "sent")
		time.Sleep(200 * time.Millisecond)
		if n := len(b.sink.Messages()); n != 1 {
			t.Fatalf("relay received %d messages, want 1", n)
		}
	})
}

func TestGracefulShutdownDuringDelivery(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		// The relay takes longer to answer the final dot than the shutdown
		// timeout allows: the attempt is cancelled and released for retry.
		b := setup(t, d, setupOpts{sink: smtptest.Options{DataDelay: 5 * time.Second},
			config: map[string]string{"SEALPOST_SHUTDOWN_TIMEOUT": "300ms"}})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, datas := b.sink.Commands(); datas > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("delivery never reached DATA")
			}
			time.Sleep(10 * time.Millisecond)
		}
		start := time.Now()
		b.stop()
		if took := time.Since(start); took > 4*time.Second {
			t.Fatalf("shutdown took %s", took)
		}
		m, err := b.db.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		state, err := b.db.JobState(t.Context(), m.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if state == "running" || m.Status != "deferred" {
			t.Fatalf("after shutdown: job %s, message %s", state, m.Status)
		}
		if !strings.Contains(m.LastError, "unknown") &&
			!strings.Contains(m.LastError, "interrupt") &&
			!strings.Contains(m.LastError, "cancel") {
			t.Logf("last error: %s", m.LastError)
		}
	})
}

// A shutdown while a send is in flight lets it finish within the grace
// period: the message ends sent, and the relay receives it exactly once.
func TestShutdownLetsInFlightSendFinish(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{sink: smtptest.Options{DataDelay: 1500 * time.Millisecond},
			config: map[string]string{"SEALPOST_SHUTDOWN_TIMEOUT": "20s"}})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())
		deadline := time.Now().Add(10 * time.Second)
		for {
			if _, _, datas := b.sink.Commands(); datas > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("delivery never reached DATA")
			}
			time.Sleep(10 * time.Millisecond)
		}
		b.stop()
		m, err := b.db.GetMessage(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != "sent" || m.Attempts != 1 {
			t.Fatalf(
				"after graceful shutdown: status %s, attempts %d (%s)",
				m.Status,
				m.Attempts,
				m.LastError,
			)
		}
		if n := len(b.sink.Messages()); n != 1 {
			t.Fatalf("relay received %d copies", n)
		}
	})
}
