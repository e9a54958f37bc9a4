package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/mail"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/migrations"
)

var unsubscribeRE = regexp.MustCompile(`<(https://portal\.example\.test/u/[A-Za-z0-9_.-]+)>`)

func (b *bundle) key(t *testing.T, roles ...apikey.Role) string {
	t.Helper()
	k, _, err := apikey.Create(context.Background(), b.db, "k", roles)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func marketingMessage(to string) map[string]any {
	m := orderMessage()
	m["to"] = to
	m["category"] = "marketing"
	return m
}

// Case BL-18 and the unsubscribe flow: one-click POST from a mail client
// (no cookies) records the opt-out at once; a GET changes nothing; the next
// marketing message is suppressed and never sent; transactional mail still
// flows.
func TestCaseBL18OneClickUnsubscribe(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := portalSetup(t, d)
		b.putOrderTemplate(t)
		compliance := b.key(t, apikey.Compliance)
		const rcpt = "fan@example.test"

		if res := b.do(t, "POST", "/v1/messages", b.sender, marketingMessage(rcpt)); res.status != 422 {
			t.Fatalf("marketing without consent: %d %s", res.status, res.body)
		}
		res := b.do(t, "POST", "/v1/consents", compliance, map[string]any{
			"email": rcpt, "action": "grant", "source": "form", "wording_version": "2026-11",
			"wording": "Send me offers by email.", "ip": "192.0.2.77", "user_agent": "Browser/1.0"})
		if res.status != 201 {
			t.Fatalf("grant: %d %s", res.status, res.body)
		}
		id := b.send(t, marketingMessage(rcpt))
		b.waitStatus(t, id, "sent")
		raw := b.sink.WaitMessages(1, 10*time.Second)[0].Data
		msg, err := mail.ReadMessage(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if msg.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Fatalf("no one-click header")
		}
		link := unsubscribeRE.FindStringSubmatch(msg.Header.Get("List-Unsubscribe"))
		if link == nil || strings.Contains(link[1], "fan") {
			t.Fatalf("List-Unsubscribe = %q", msg.Header.Get("List-Unsubscribe"))
		}
		sig := msg.Header.Get("DKIM-Signature")
		if !strings.Contains(sig, "List-Unsubscribe:") ||
			!strings.Contains(sig, "List-Unsubscribe-Post") {
			t.Fatalf("unsubscribe headers not signed: %s", sig)
		}
		path := strings.TrimPrefix(link[1], "https://portal.example.test")

		// A link scanner's GET changes nothing.
		if r := b.rawDo(t, "GET", path, nil, ""); r.StatusCode != 200 {
			t.Fatalf("GET: %d", r.StatusCode)
		}
		if res := b.do(t, "POST", "/v1/messages", b.sender, marketingMessage(rcpt)); res.status != 202 ||
			res.json(t)["status"] != "queued" {
			t.Fatalf("after GET the address must still be mailable: %s", res.body)
		}

		// The mail client's one-click POST.
		r := b.rawDo(t, "POST", path, url.Values{"List-Unsubscribe": {"One-Click"}}, "")
		if page := readAll(t, r); r.StatusCode != 200 || !strings.Contains(page, "Unsubscribed") {
			t.Fatalf("one-click: %d %s", r.StatusCode, page)
		}
		res = b.do(t, "POST", "/v1/messages", b.sender, marketingMessage(rcpt))
		if res.status != 202 || res.json(t)["status"] != "suppressed" {
			t.Fatalf("marketing after unsubscribe: %d %s", res.status, res.body)
		}
		suppressedID := res.json(t)["id"].(string)
		time.Sleep(300 * time.Millisecond)
		if got := b.waitStatus(t, suppressedID, "suppressed"); got["attempts"].(float64) != 0 {
			t.Fatalf("suppressed message attempted: %v", got)
		}
		tx := b.send(t, with("to", rcpt))
		b.waitStatus(t, tx, "sent")

		res = b.do(t, "GET", "/v1/consents?email="+url.QueryEscape(rcpt), compliance, nil)
		if res.status != 200 || !bytes.Contains(res.body, []byte(`"marketing":"withdrawn"`)) ||
			!bytes.Contains(
				res.body,
				[]byte(`"ip":"192.0.2.0/24"`),
			) || !bytes.Contains(res.body, []byte(`"source":"unsubscribe"`)) {
			t.Fatalf("consent history: %d %s", res.status, res.body)
		}
		if res := b.do(t, "GET", "/v1/consents?email="+url.QueryEscape(rcpt), b.sender, nil); res.status != 403 {
			t.Fatalf("sender reads consent: %d", res.status)
		}
		if r := b.rawDo(t, "POST", "/u/"+strings.Repeat("x", 20)+".forged", url.Values{}, ""); r.StatusCode != 404 {
			t.Fatalf("forged token: %d", r.StatusCode)
		}
	})
}

func TestSuppressionLifecycle(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		compliance := b.key(t, apikey.Compliance)
		res := b.do(t, "POST", "/v1/suppressions", compliance,
			map[string]any{"email": "Pat@Example.TEST", "reason": "manual"})
		if res.status != 201 {
			t.Fatalf("add: %d %s", res.status, res.body)
		}
		supID := res.json(t)["id"].(string)
		res = b.do(t, "POST", "/v1/messages", b.sender, orderMessage()) // to pat@example.test
		if res.status != 202 || res.json(t)["status"] != "suppressed" {
			t.Fatalf("suppressed send: %d %s", res.status, res.body)
		}
		if res := b.do(t, "DELETE", "/v1/suppressions/"+supID, b.sender, map[string]any{"reason": "x"}); res.status != 403 {
			t.Fatalf("sender removes: %d", res.status)
		}
		if res := b.do(t, "DELETE", "/v1/suppressions/"+supID, compliance, map[string]any{}); res.status != 422 {
			t.Fatalf("removal without reason: %d", res.status)
		}
		if res := b.do(t, "DELETE", "/v1/suppressions/"+supID, compliance,
			map[string]any{"reason": "customer asked by phone, ticket 4411"}); res.status != http.StatusNoContent {
			t.Fatalf("remove: %d", res.status)
		}
		id := b.send(t, orderMessage())
		b.waitStatus(t, id, "sent")
		res = b.do(t, "GET", "/v1/suppressions?email=pat@example.test", compliance, nil)
		if !bytes.Contains(
			res.body,
			[]byte(`"removal_reason":"customer asked by phone, ticket 4411"`),
		) {
			t.Fatalf("history: %s", res.body)
		}
	})
}

var confirmRE = regexp.MustCompile(`https://portal\.example\.test(/c/[A-Za-z0-9_.-]+)`)

// Case BL-18 (c) and (d), and double opt-in: the confirmation mail has no
// List-Unsubscribe header; a GET of its link confirms nothing; the POST
// confirms; asking again for a confirmed address changes nothing and is
// answered the same; a second request within 10 minutes gets 429.
func TestCaseBL18DoubleOptIn(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := portalSetup(t, d)
		marketer := b.key(t, apikey.Marketer)
		compliance := b.key(t, apikey.Compliance)
		request := map[string]any{
			"email":           "new@example.test",
			"action":          "request",
			"source":          "form",
			"wording_version": "2026-11",
			"wording":         "Send me offers by email.",
		}

		res := b.do(t, "POST", "/v1/consents", marketer, request)
		if res.status != 202 {
			t.Fatalf("request: %d %s", res.status, res.body)
		}
		first := string(res.body)
		if res := b.do(t, "POST", "/v1/consents", marketer, request); res.status != 429 {
			t.Fatalf("second request within 10 minutes: %d", res.status)
		}
		msgs := b.sink.WaitMessages(1, 10*time.Second)
		if len(msgs) != 1 {
			t.Fatal("no confirmation mail")
		}
		m, _ := mail.ReadMessage(bytes.NewReader(msgs[0].Data))
		if m.Header.Get("List-Unsubscribe") != "" {
			t.Fatal("the confirmation mail carries List-Unsubscribe")
		}
		link := confirmRE.FindStringSubmatch(decodedBody(t, msgs[0].Data))
		if link == nil {
			t.Fatalf("no confirmation link: %s", decodedBody(t, msgs[0].Data))
		}
		state := func() string {
			res := b.do(t, "GET", "/v1/consents?email=new@example.test", compliance, nil)
			return string(res.body)
		}
		b.rawDo(t, "GET", link[1], nil, "")
		if strings.Contains(state(), `"marketing":"granted"`) {
			t.Fatal("a GET confirmed the subscription")
		}
		if r := b.rawDo(t, "POST", link[1], url.Values{}, ""); r.StatusCode != 200 {
			t.Fatalf("confirm: %d", r.StatusCode)
		}
		if !strings.Contains(state(), `"action":"confirm"`) {
			t.Fatalf("no confirmation recorded: %s", state())
		}
		if res := b.do(t, "POST", "/v1/messages", b.sender, func() map[string]any {
			b.putOrderTemplate(t)
			return marketingMessage("new@example.test")
		}()); res.status != 202 {
			t.Fatalf("marketing after confirmation: %d %s", res.status, res.body)
		}

		// Already confirmed: same answer, nothing changes, no mail.
		before := state()
		res = b.do(t, "POST", "/v1/consents", marketer, request)
		if res.status != 202 || string(res.body) != first || state() != before {
			t.Fatalf("re-request of a confirmed address: %d %s", res.status, res.body)
		}
		time.Sleep(300 * time.Millisecond)
		if n := len(b.sink.Messages()); n != 2 { // the confirmation and the marketing mail
			t.Fatalf("relay received %d messages, want 2", n)
		}
	})
}

// A compliance key exports consent with its evidence and suppressions;
// every export is an audit event, and the audit chain verifies.
func TestComplianceExports(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		comp := b.key(t, apikey.Compliance)
		for _, email := range []string{"a@example.test", "b@example.test"} {
			res := b.do(
				t,
				"POST",
				"/v1/consents",
				comp,
				map[string]any{"email": email, "action": "grant",
					"source": "import", "wording_version": "v3", "wording": "Offers by email.", "ip": "198.51.100.7",
					"user_agent": "=cmd|' /C calc'!A0"},
			)
			if res.status != 201 {
				t.Fatalf("grant: %d %s", res.status, res.body)
			}
		}
		b.do(t, "POST", "/v1/suppressions", comp, map[string]any{"email": "c@example.test"})

		res := b.do(t, "GET", "/v1/exports/consents?format=csv", comp, nil)
		if res.status != 200 || strings.Count(string(res.body), "\n") != 3 ||
			!strings.Contains(
				string(res.body),
				"198.51.100.0/24",
			) || strings.Contains(string(res.body), ",=cmd") {
			t.Fatalf("csv export: %d %s", res.status, res.body)
		}
		res = b.do(t, "GET", "/v1/exports/consents?email=b@example.test", comp, nil)
		if res.status != 200 || strings.Count(string(res.body), "\n") != 1 ||
			!strings.Contains(string(res.body), `"wording_hash":"`) {
			t.Fatalf("ndjson export for one address: %s", res.body)
		}
		if res := b.do(t, "GET", "/v1/exports/suppressions", comp, nil); res.status != 200 ||
			!strings.Contains(string(res.body), `"reason":"manual"`) {
			t.Fatalf("suppression export: %s", res.body)
		}
		if res := b.do(t, "GET", "/v1/exports/consents", b.admin, nil); res.status != 403 {
			t.Fatalf("admin export: %d", res.status)
		}

		var out bytes.Buffer
		n, err := audit.Export(context.Background(), b.db, time.Time{}, time.Time{}, "ndjson", &out)
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"export.consents", "export.suppressions", "consent.granted",
			"suppression.added"} {
			if !strings.Contains(out.String(), want) {
				t.Fatalf("audit log (%d events) lacks %s", n, want)
			}
		}
		if strings.Contains(out.String(), "example.test") {
			t.Fatal("the audit log holds an address")
		}
		res = b.do(t, "GET", "/v1/audit/verify", comp, nil)
		if res.status != 200 || res.json(t)["ok"] != true {
			t.Fatalf("audit verify: %d %s", res.status, res.body)
		}
		if err := b.db.ExecForTest(context.Background(),
			"UPDATE sealpost_audit_event SET object_id = 'forged' WHERE seq = 2"); err != nil {
			t.Fatal(err)
		}
		res = b.do(t, "GET", "/v1/audit/verify", comp, nil)
		if res.json(t)["ok"] != false || res.json(t)["first_bad"].(float64) != 2 {
			t.Fatalf("tampering not reported: %s", res.body)
		}
		if res := b.do(t, "GET", "/v1/exports/audit?format=csv", comp, nil); res.status != 200 ||
			!strings.Contains(string(res.body), "prev_hash") {
			t.Fatalf("audit export: %d %.200s", res.status, res.body)
		}
	})
}
