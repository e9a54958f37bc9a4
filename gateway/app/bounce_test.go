package app_test

import (
	"net/smtp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/smtptest"
	"github.com/sealpost/sealpost/migrations"
)

// A relay's synchronous 5.1.1 at RCPT fails the message and suppresses the
// address, so the next message to it is never sent.
func TestHardBounceAtRCPTStopsAllMail(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{sink: smtptest.Options{RcptReply: smtptest.ErrPermanent}})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())
		b.waitStatus(t, id, "failed")
		res := b.do(t, "POST", "/v1/messages", b.sender, orderMessage())
		if res.status != 202 || res.json(t)["status"] != "suppressed" {
			t.Fatalf("after a hard bounce: %d %s", res.status, res.body)
		}
	})
}

// A DSN returned to the message's VERP address suppresses the recipient;
// so does a provider's JSON bounce event.
func TestReturnedBouncesSuppress(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := portalSetupWith(t, d, map[string]string{
			"SEALPOST_BOUNCE_DOMAIN": "bounce.example.test", "SEALPOST_BOUNCE_ADDR": "127.0.0.1:0"})
		b.putOrderTemplate(t)
		id := b.send(t, with("to", "gone@example.test"))
		b.waitStatus(t, id, "sent")
		rcv := b.sink.WaitMessages(1, 10*time.Second)[0]
		if !strings.HasPrefix(rcv.From, "bounces+") ||
			!strings.HasSuffix(rcv.From, "@bounce.example.test") {
			t.Fatalf("envelope sender %q is not a VERP address", rcv.From)
		}

		dsn := strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.test
To: RP
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b1"

--b1
Content-Type: text/plain

The mail could not be delivered.

--b1
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.test

Final-Recipient: rfc822; gone@example.test
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--b1--
`, "RP", rcv.From)
		dsn = strings.ReplaceAll(dsn, "\n", "\r\n")
		if err := smtp.SendMail(b.app.BounceAddr(), nil, "", []string{rcv.From}, []byte(dsn)); err != nil {
			t.Fatalf("send DSN: %v", err)
		}
		res := b.do(t, "POST", "/v1/messages", b.sender, with("to", "gone@example.test"))
		if res.status != 202 || res.json(t)["status"] != "suppressed" {
			t.Fatalf("after a returned DSN: %d %s", res.status, res.body)
		}

		// A provider-style JSON event.
		id2 := b.send(t, with("to", "other@example.test"))
		b.waitStatus(t, id2, "sent")
		comp := b.key(t, apikey.Compliance)
		res = b.do(t, "POST", "/v1/events/bounces", comp, []map[string]any{{
			"type": "bounce", "message_id": id2, "recipient": "other@example.test", "status": "5.1.1",
			"timestamp": time.Now().UTC().Format(time.RFC3339)}})
		if res.status != 202 {
			t.Fatalf("JSON bounce: %d %s", res.status, res.body)
		}
		res = b.do(t, "POST", "/v1/messages", b.sender, with("to", "other@example.test"))
		if res.json(t)["status"] != "suppressed" {
			t.Fatalf("after a JSON bounce: %s", res.body)
		}
	})
}
