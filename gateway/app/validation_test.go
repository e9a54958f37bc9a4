package app_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/migrations"
)

const canary = "CANARY-7f3a"

func withData(key string, value any) map[string]any {
	m := orderMessage()
	m["data"].(map[string]any)[key] = value
	return m
}

func without(key string) map[string]any {
	m := orderMessage()
	delete(m["data"].(map[string]any), key)
	return m
}

func with(field string, value any) map[string]any {
	m := orderMessage()
	m[field] = value
	return m
}

// Every rule is checked when the message is accepted: a precise 4xx that
// names the field, never the value, and never a 5xx.
func TestMessageValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		body    any
		status  int
		pointer string
		key     string // "" = sender
		ctype   string
	}{
		{"unknown template", with("template", "no-such-template"), 422, "/template", "", ""},
		{"bad template name", with("template", "../"+canary), 422, "/template", "", ""},
		{"missing required variable", without("order_number"), 422, "/data/order_number", "", ""},
		{"unknown variable", withData("diagnosis", canary), 422, "/data/diagnosis", "", ""},
		{"mistyped variable", withData("first_name", 42), 422, "/data/first_name", "", ""},
		{
			"nested object",
			withData("first_name", map[string]any{"x": canary}),
			422,
			"/data/first_name",
			"",
			"",
		},
		{
			"LF in single-line value",
			withData("first_name", canary+"\nBcc: spy@attacker.test"),
			422,
			"/data/first_name",
			"",
			"",
		},
		{
			"CR in single-line value",
			withData("first_name", canary+"\r"),
			422,
			"/data/first_name",
			"",
			"",
		},
		{
			"NUL in single-line value",
			withData("first_name", canary+"\x00"),
			422,
			"/data/first_name",
			"",
			"",
		},
		{"invalid address", with("to", canary+"@@example.test"), 422, "/to", "", ""},
		{"address without domain dot", with("to", canary+"@localhost"), 422, "/to", "", ""},
		{
			"CRLF in address",
			with("to", "pat@example.test\r\nRCPT TO:<"+canary+"@attacker.test>"),
			422,
			"/to",
			"",
			"",
		},
		{
			"several recipients",
			with("to", []any{"a@example.test", "b@example.test"}),
			422,
			"/to",
			"",
			"",
		},
		{
			"CRLF in display name",
			with(
				"to",
				map[string]any{"email": "pat@example.test", "name": "Pat\r\nX-Evil: " + canary},
			),
			422,
			"/to/name",
			"",
			"",
		},
		{
			"unknown field in recipient",
			with("to", map[string]any{"email": "pat@example.test", "cc": canary}),
			422,
			"/to",
			"",
			"",
		},
		{"missing recipient", with("to", nil), 422, "/to", "", ""},
		{
			"unknown top-level field (subject)",
			with("subject", "Your order shipped\r\nBcc: spy@attacker.test"),
			422,
			"/subject",
			"",
			"",
		},
		{
			"header injection",
			with("headers", map[string]any{"X-Ref": "a\nBcc: " + canary + "@attacker.test"}),
			422,
			"/headers/X-Ref",
			"",
			"",
		},
		{
			"structural header",
			with("headers", map[string]any{"Bcc": canary + "@attacker.test"}),
			422,
			"/headers/Bcc",
			"",
			"",
		},
		{
			"encoded word in header",
			with("headers", map[string]any{"X-Ref": "=?UTF-8?Q?a=0D=0ABcc:_" + canary + "?="}),
			422,
			"/headers/X-Ref",
			"",
			"",
		},
		{"bad category", with("category", "promo-"+canary), 422, "/category", "", ""},
		{
			"non-ASCII header value",
			with("headers", map[string]any{"X-Ref": "café-" + canary}),
			422,
			"/headers/X-Ref",
			"",
			"",
		},
		{"TAB in a subject variable", withData("shop_name", "Acme\t"+canary), 422, "/data", "", ""},
		{
			"encoded word in a subject variable",
			withData("shop_name", "=?UTF-8?Q?Acme=0D=0ABcc:_"+canary+"?="),
			422,
			"/data",
			"",
			"",
		},
		{"too many headers", with("headers", manyHeaders(40)), 422, "/headers", "", ""},
		{"PHI in the display name", with("to", map[string]any{"email": "pat@example.test", "name": "Pat (Ozempic patient " + canary + ")"}), 422, "/to/name", "", ""},
		{"PHI in a header", with("headers", map[string]any{"X-Note": "Metformin " + canary}), 422, "/headers/X-Note", "", ""},
		{"a built-in template", with("template", "sealpost-portal-code"), 422, "/template", "", ""},
		{"marketing without consent", with("category", "marketing"), 422, "/category", "", ""},
		{"wrong JSON type for data", with("data", []any{canary}), 422, "/data", "", ""},
		{"malformed JSON", `{"template": "order-shipped", "to": "` + canary, 400, "", "", ""},
		{"trailing data", `{"template":"order-shipped"} {"x":"` + canary + `"}`, 400, "", "", ""},
		{"not an object", `["` + canary + `"]`, 400, "", "", ""},
		{"empty body", "", 400, "", "", ""},
		{"oversized body", withData("first_name", strings.Repeat("x", 2<<20)), 413, "", "", ""},
		{"wrong content type", orderMessage(), 415, "", "", "text/plain"},
		{"no key", orderMessage(), 401, "", "none", ""},
		{"malformed key", orderMessage(), 401, "", "sp_" + canary, ""},
		{"admin key cannot send", orderMessage(), 403, "", "admin", ""},
	}
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				key := b.sender
				switch tt.key {
				case "none":
					key = ""
				case "admin":
					key = b.admin
				case "":
				default:
					key = tt.key
				}
				var headers []string
				if tt.ctype != "" {
					headers = []string{"Content-Type", tt.ctype}
				}
				res := b.do(t, "POST", "/v1/messages", key, tt.body, headers...)
				if res.status != tt.status {
					t.Fatalf("status = %d, want %d: %s", res.status, tt.status, res.body)
				}
				if ct := res.header.Get("Content-Type"); ct != "application/problem+json" {
					t.Fatalf("content type = %q", ct)
				}
				if bytes.Contains(res.body, []byte(canary)) ||
					bytes.Contains(res.body, []byte("attacker.test")) {
					t.Fatalf("problem echoes the submitted value: %s", res.body)
				}
				if tt.pointer == "" {
					return
				}
				var p struct {
					Errors []struct{ Pointer, Detail string }
				}
				if err := json.Unmarshal(res.body, &p); err != nil {
					t.Fatal(err)
				}
				for _, e := range p.Errors {
					if e.Pointer == tt.pointer && e.Detail != "" {
						return
					}
				}
				t.Fatalf("no problem for %s: %s", tt.pointer, res.body)
			})
		}
		if n := len(b.sink.Messages()); n != 0 {
			t.Fatalf("rejected requests produced %d messages", n)
		}
	})
}

// Case BL-10: injection attempts in every single-line place are refused and
// no request produces an extra header or recipient.
func TestCaseBL10HeaderInjection(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		attempts := []map[string]any{
			with("subject", "Your order shipped\r\nBcc: spy@attacker.test"),
			with(
				"to",
				[]any{map[string]any{"email": "pat@example.test", "name": "Pat\r\nX-Evil: 1"}},
			),
			with("to", map[string]any{"email": "pat@example.test", "name": "Pat\r\nX-Evil: 1"}),
			with("headers", map[string]any{"X-Ref": "a\nBcc: spy@attacker.test"}),
			withData("shop_name", "=?UTF-8?Q?Hi=0D=0ABcc:_spy@attacker.test?="),
			withData("shop_name", "Acme\rBcc: spy@attacker.test"),
			withData("shop_name", "Acme\x00"),
		}
		accepted := 0
		for i, body := range attempts {
			res := b.do(t, "POST", "/v1/messages", b.sender, body)
			switch res.status {
			case http.StatusBadRequest, http.StatusUnprocessableEntity:
			case http.StatusAccepted:
				accepted++
			default:
				t.Fatalf("attempt %d: status %d %s", i, res.status, res.body)
			}
		}
		if accepted > 0 {
			t.Fatalf("%d injection attempts accepted", accepted)
		}
		msgs := b.sink.WaitMessages(accepted, 10*time.Second)
		for _, m := range msgs {
			for _, rcpt := range m.To {
				if strings.Contains(rcpt, "attacker") {
					t.Fatalf("extra envelope recipient %q", rcpt)
				}
			}
			head, _, _ := bytes.Cut(m.Data, []byte("\r\n\r\n"))
			for _, line := range strings.Split(string(head), "\r\n") {
				l := strings.ToLower(line)
				if strings.HasPrefix(l, "bcc:") || strings.HasPrefix(l, "x-evil:") {
					t.Fatalf("injected header %q", line)
				}
			}
		}
	})
}

// Case BL-08: smuggling sequences in a multi-line value are carried as text;
// the relay sees exactly one message and no bare CR or LF. Sequences with a
// bare CR are refused at the API.
func TestCaseBL08SMTPSmuggling(t *testing.T) {
	t.Parallel()
	smuggled := "\r\nMAIL FROM:<noreply@example.test>\r\nRCPT " +
		"TO:<victim@example.test>\r\nDATA\r\n" +
		"From: Billing <noreply@example.test>\r\n\r\nPay now\r\n.\r\n"
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		acceptedVariants := []string{"ok\n.\r\n" + smuggled, "ok\n.\n" + smuggled, "ok\r\n.\n"}
		for _, v := range acceptedVariants {
			b.send(t, withData("note", v))
		}
		for _, v := range []string{"ok\r\n.\r" + smuggled, "ok\r.\r" + smuggled, "ok\r"} {
			res := b.do(t, "POST", "/v1/messages", b.sender, withData("note", v))
			if res.status != http.StatusUnprocessableEntity {
				t.Fatalf("bare CR variant: status %d %s", res.status, res.body)
			}
		}
		msgs := b.sink.WaitMessages(len(acceptedVariants), 15*time.Second)
		time.Sleep(200 * time.Millisecond)
		if mails, _, _ := b.sink.Commands(); mails != len(acceptedVariants) {
			t.Fatalf("relay saw %d MAIL commands for %d messages", mails, len(acceptedVariants))
		}
		for _, m := range msgs {
			for i, c := range m.Data {
				if c == '\n' && (i == 0 || m.Data[i-1] != '\r') {
					t.Fatal("bare LF in DATA")
				}
				if c == '\r' && (i+1 == len(m.Data) || m.Data[i+1] != '\n') {
					t.Fatal("bare CR in DATA")
				}
			}
			if len(m.To) != 1 || m.To[0] != "pat@example.test" {
				t.Fatalf("recipients %q", m.To)
			}
		}
	})
}

func TestIDNRecipientBecomesALabel(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		b.send(t, with("to", "pat@bücher.example"))
		msgs := b.sink.WaitMessages(1, 10*time.Second)
		if len(msgs) != 1 || msgs[0].To[0] != "pat@xn--bcher-kva.example" {
			t.Fatalf("envelope recipients: %+v", msgs)
		}
	})
}

// No input produces a 5xx: mutate a valid request at random and send it.
func TestNoInputProducesServerError(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		b.putOrderTemplate(t)
		valid, _ := json.Marshal(orderMessage())
		rng := rand.New(rand.NewPCG(1, 2))
		alphabet := []byte("{}[]\":,\\\r\n\x00 aZ09.-@éü\xff\xfe")
		for i := range 300 {
			body := append([]byte(nil), valid...)
			for range 1 + rng.IntN(4) {
				pos := rng.IntN(len(body))
				switch rng.IntN(3) {
				case 0:
					body[pos] = alphabet[rng.IntN(len(alphabet))]
				case 1:
					body = append(body[:pos], body[pos+1:]...)
				default:
					body = append(
						body[:pos],
						append([]byte{alphabet[rng.IntN(len(alphabet))]}, body[pos:]...)...)
				}
			}
			res := b.do(t, "POST", "/v1/messages", b.sender, body)
			if res.status >= 500 {
				t.Fatalf("mutation %d: status %d for %q: %s", i, res.status, body, res.body)
			}
		}
	})
}

func TestTemplateEndpoints(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		if res := b.do(t, "PUT", "/v1/templates/order-shipped", b.sender, orderTemplate); res.status != 403 {
			t.Fatalf("sender saving a template: %d", res.status)
		}
		b.putOrderTemplate(t)
		b.putOrderTemplate(t)
		res := b.do(t, "GET", "/v1/templates/order-shipped", b.admin, nil)
		if res.status != 200 || res.json(t)["version"].(float64) != 2 {
			t.Fatalf("GET template: %d %s", res.status, res.body)
		}
		res = b.do(t, "POST", "/v1/templates/order-shipped/preview", b.admin,
			map[string]any{"data": orderMessage()["data"]})
		if res.status != 200 || res.json(t)["subject"] != "Your Acme order A-1001 has shipped" {
			t.Fatalf("preview: %d %s", res.status, res.body)
		}
		bad := map[string]any{
			"subject":   "Hello {{.undeclared}}",
			"text":      "x",
			"variables": map[string]any{},
		}
		res = b.do(t, "PUT", "/v1/templates/broken", b.admin, bad)
		if res.status != 422 || !bytes.Contains(res.body, []byte("/subject")) {
			t.Fatalf("invalid template: %d %s", res.status, res.body)
		}
		xss := map[string]any{"subject": "Hi", "text": "x", "variables": map[string]any{},
			"html": `<p>Hi</p><img src=x onerror=alert(1)><script>alert(1)</script><a href="jav&#x09;ascript:alert(1)">x</a>`}
		if res := b.do(t, "PUT", "/v1/templates/xss", b.admin, xss); res.status != 201 {
			t.Fatalf("save: %d %s", res.status, res.body)
		}
		res = b.do(
			t,
			"POST",
			"/v1/templates/xss/preview",
			b.admin,
			map[string]any{"data": map[string]any{}},
		)
		html := strings.ToLower(res.json(t)["html"].(string))
		for _, bad := range []string{"<script", "onerror", "javascript:"} {
			if strings.Contains(html, bad) {
				t.Fatalf("preview HTML keeps %q: %s", bad, html)
			}
		}
		res = b.do(t, "GET", "/v1/templates", b.sender, nil)
		var list struct {
			Templates []struct {
				Name          string
				LatestVersion int `json:"latest_version"`
			}
		}
		if err := json.Unmarshal(res.body, &list); err != nil || len(list.Templates) != 2 ||
			list.Templates[0].Name != "order-shipped" || list.Templates[0].LatestVersion != 2 {
			t.Fatalf("list templates: %d %s", res.status, res.body)
		}
		if res := b.do(t, "GET", "/v1/templates/none", b.admin, nil); res.status != 404 {
			t.Fatalf("missing template: %d", res.status)
		}
	})
}

func TestKeyEndpoints(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		res := b.do(
			t,
			"POST",
			"/v1/keys",
			b.admin,
			map[string]any{"name": "billing", "roles": []string{"sender"}},
		)
		if res.status != 201 {
			t.Fatalf("create key: %d %s", res.status, res.body)
		}
		created := res.json(t)
		key, id := created["key"].(string), created["id"].(string)
		b.putOrderTemplate(t)
		res = b.do(t, "POST", "/v1/messages", key, orderMessage())
		if res.status != 202 {
			t.Fatalf("new key sends: %d", res.status)
		}
		msgID := res.json(t)["id"].(string)
		if res := b.do(t, "GET", "/v1/messages/"+msgID, b.sender, nil); res.status != 404 {
			t.Fatalf("another sender key reads the status: %d", res.status)
		}
		if res := b.do(t, "GET", "/v1/messages/"+msgID, key, nil); res.status != 200 {
			t.Fatalf("own key reads the status: %d", res.status)
		}
		if res := b.do(t, "GET", "/v1/keys", b.admin, nil); res.status != 200 ||
			bytes.Contains(res.body, []byte(key)) {
			t.Fatalf("list keys: %d (must not show secrets)", res.status)
		}
		if res := b.do(t, "DELETE", "/v1/keys/"+id, b.admin, nil); res.status != 204 {
			t.Fatalf("revoke: %d", res.status)
		}
		if res := b.do(t, "POST", "/v1/messages", key, orderMessage()); res.status != 401 {
			t.Fatalf("revoked key sends: %d", res.status)
		}
		if res := b.do(t, "POST", "/v1/keys", b.sender, map[string]any{"name": "x", "roles": []string{"admin"}}); res.status != 403 {
			t.Fatalf("sender creating keys: %d", res.status)
		}
	})
}

func manyHeaders(n int) map[string]any {
	h := map[string]any{}
	for i := range n {
		h[fmt.Sprintf("bad name %d", i)] = "x"
	}
	return h
}

// The PHI boundary at the API: a template that names a diagnosis cannot be
// saved, and a data value that names a medication is refused, neither ever
// echoed.
func TestPHIBoundaryAtTheAPI(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := setup(t, d, setupOpts{})
		res := b.do(t, "PUT", "/v1/templates/leaky", b.admin, map[string]any{
			"subject": "Your order",
			"text":    "Hi {{.first_name}},\nyour treatment for type 2 diabetes is on its way.",
			"variables": map[string]any{
				"first_name": map[string]any{"type": "string", "class": "identifier"},
			},
		})
		var p struct {
			Errors []struct {
				Pointer, Rule, Detail string
				Line, Column          int
			}
		}
		if err := json.Unmarshal(res.body, &p); err != nil || res.status != 422 ||
			len(p.Errors) == 0 {
			t.Fatalf("diagnosis template: %d %s", res.status, res.body)
		}
		f := p.Errors[0]
		if f.Pointer != "/text" || f.Rule == "" || f.Line != 2 || f.Column == 0 ||
			bytes.Contains(res.body, []byte("diabetes")) {
			t.Fatalf("finding: %+v in %s", f, res.body)
		}

		for name, body := range map[string]map[string]any{
			"identifier in subject": {"subject": "Hi {{.first_name}}", "text": "x",
				"variables": map[string]any{"first_name": map[string]any{"type": "string", "class": "identifier"}}},
			"PHI name not sensitive": {"subject": "Order", "text": "x {{.medication}}",
				"variables": map[string]any{"medication": map[string]any{"type": "string"}}},
		} {
			if res := b.do(t, "PUT", "/v1/templates/x", b.admin, body); res.status != 422 {
				t.Fatalf("%s: %d %s", name, res.status, res.body)
			}
		}

		b.putOrderTemplate(t)
		res = b.do(
			t,
			"POST",
			"/v1/messages",
			b.sender,
			withData("note", "Your Metformin 500 mg refill"),
		)
		if res.status != 422 || !bytes.Contains(res.body, []byte(`"pointer":"/data/note"`)) ||
			bytes.Contains(res.body, []byte("Metformin")) {
			t.Fatalf("medication in data: %d %s", res.status, res.body)
		}
	})
}

func TestPHIInIdempotencyKeyAndReservedTemplates(t *testing.T) {
	t.Parallel()
	b := setup(t, migrations.SQLite, setupOpts{})
	b.putOrderTemplate(t)
	res := b.do(t, "POST", "/v1/messages", b.sender, orderMessage(), "Idempotency-Key", "ozempic-refill-diabetes-pat")
	if res.status != 422 || bytes.Contains(res.body, []byte("ozempic")) {
		t.Fatalf("PHI in the idempotency key: %d %s", res.status, res.body)
	}
	if res := b.do(t, "PUT", "/v1/templates/sealpost-portal-code", b.admin, orderTemplate); res.status != 403 {
		t.Fatalf("overwriting a built-in template: %d", res.status)
	}
}
