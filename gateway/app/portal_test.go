package app_test

import (
	"bytes"
	"context"
	"io"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/app"
	"github.com/sealpost/sealpost/migrations"
)

const sensitiveCanary = "PHI-CANARY-5b1e Atorvastatin 20 mg"

var rxTemplate = map[string]any{
	"subject": "Your {{.shop_name}} order is ready",
	"text":    "Hi {{.first_name}},\n\nYour order is ready. See the details securely: {{.portal_url}}\n",
	"html":    `<p>Hi {{.first_name}},</p><p>Your order is ready. <a href="{{.portal_url}}">See the details securely</a>.</p>`,
	"variables": map[string]any{
		"first_name": map[string]any{"type": "string", "required": true},
		"shop_name":  map[string]any{"type": "string", "required": true},
		"portal_url": map[string]any{"type": "url"},
	},
}

func portalSetup(t *testing.T, d migrations.Dialect, logs ...io.Writer) *bundle {
	t.Helper()
	return portalSetupWith(t, d, nil, logs...)
}

// portalSetupWith is portalSetup with extra settings.
func portalSetupWith(
	t *testing.T,
	d migrations.Dialect,
	extra map[string]string,
	logs ...io.Writer,
) *bundle {
	t.Helper()
	dir := t.TempDir()
	master, secret := filepath.Join(dir, "master-key"), filepath.Join(dir, "portal-secret")
	if err := app.EnsureMasterKey(master, secret); err != nil {
		t.Fatal(err)
	}
	o := setupOpts{config: map[string]string{
		"SEALPOST_MASTER_KEY_FILE": master, "SEALPOST_PORTAL_SECRET_FILE": secret,
		"SEALPOST_PUBLIC_URL": "https://portal.example.test",
	}}
	for k, v := range extra {
		o.config[k] = v
	}
	if len(logs) > 0 {
		o.logs = logs[0]
	}
	b := setup(t, d, o)
	if res := b.do(t, "PUT", "/v1/templates/rx-ready", b.admin, rxTemplate); res.status != 201 {
		t.Fatalf("save template: %d %s", res.status, res.body)
	}
	return b
}

// decodedBody returns the decoded text part (or the single body) of a mail.
func decodedBody(t *testing.T, raw []byte) string {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(m.Header.Get("Content-Type"), "multipart/") {
		text, _ := parts(t, m)
		return text
	}
	b, err := io.ReadAll(quotedprintable.NewReader(m.Body))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var linkRE = regexp.MustCompile(`https://portal\.example\.test/p/([A-Za-z0-9_-]{43})`)
var codeRE = regexp.MustCompile(`code is (\d{6})`)

// rawDo sends a form or plain request to the portal without following
// redirects.
func (b *bundle) rawDo(
	t *testing.T,
	method, path string,
	form url.Values,
	cookie string,
) *http.Response {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if cookie != "" {
		req.Header.Set("Cookie", cookie)
	}
	client := &http.Client{
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { res.Body.Close() })
	return res
}

func readAll(t *testing.T, res *http.Response) string {
	t.Helper()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPortalOneTimeCodeAndSingleView(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		b := portalSetup(t, d)
		id := b.send(t, map[string]any{
			"template":  "rx-ready",
			"to":        "pat@example.test",
			"data":      map[string]any{"first_name": "Pat", "shop_name": "Acme"},
			"sensitive": map[string]any{"items": sensitiveCanary},
			"portal": map[string]any{
				"expires_in": "48h",
				"knowledge":  map[string]any{"type": "dob", "answer": "1980-02-03"},
			},
		})
		b.waitStatus(t, id, "sent")
		msgs := b.sink.WaitMessages(1, 10*time.Second)
		mail := decodedBody(t, msgs[0].Data)
		if strings.Contains(string(msgs[0].Data), "PHI-CANARY") {
			t.Fatal("the sensitive payload reached the email")
		}
		m := linkRE.FindStringSubmatch(mail)
		if m == nil {
			t.Fatalf("no portal link in the email:\n%s", mail)
		}
		token := m[1]
		path := "/p/" + token

		res := b.rawDo(t, "GET", path, nil, "")
		page := readAll(t, res)
		if res.StatusCode != 200 || strings.Contains(page, "PHI-CANARY") ||
			!strings.Contains(page, "one-time code") {
			t.Fatalf("landing page: %d %s", res.StatusCode, page)
		}
		for h, want := range map[string]string{"Cache-Control": "no-store", "Referrer-Policy": "no-referrer",
			"X-Frame-Options": "DENY"} {
			if res.Header.Get(h) != want {
				t.Fatalf("%s = %q", h, res.Header.Get(h))
			}
		}
		if !strings.Contains(res.Header.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Fatalf("CSP = %q", res.Header.Get("Content-Security-Policy"))
		}

		if res := b.rawDo(t, "POST", path+"/code", url.Values{}, ""); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("request code: %d", res.StatusCode)
		}
		msgs = b.sink.WaitMessages(2, 10*time.Second)
		if len(msgs) < 2 {
			t.Fatal("no code email")
		}
		cm := codeRE.FindStringSubmatch(decodedBody(t, msgs[1].Data))
		if cm == nil || msgs[1].To[0] != "pat@example.test" {
			t.Fatalf("code email: %q", msgs[1].Data)
		}
		code := cm[1]
		for wait := time.Now().Add(10 * time.Second); ; {
			dump, _ := b.db.DumpAllForTest(context.Background())
			if !strings.Contains(dump, `"code":"`+code) {
				break
			}
			if time.Now().After(wait) {
				i := strings.Index(dump, `"code":"`+code)
				t.Fatalf("the one-time code is still stored after its mail was sent: %q",
					strings.ToValidUTF8(dump[i:min(len(dump), i+400)], "?"))
			}
			time.Sleep(50 * time.Millisecond)
		}

		wrong := "000000"
		if code == wrong {
			wrong = "111111"
		}
		if res := b.rawDo(t, "POST", path+"/verify", url.Values{"code": {wrong}, "knowledge": {"1980-02-03"}}, ""); res.StatusCode != 401 {
			t.Fatalf("wrong code: %d", res.StatusCode)
		}
		if res := b.rawDo(t, "POST", path+"/verify", url.Values{"code": {code}, "knowledge": {"1999-01-01"}}, ""); res.StatusCode != 401 {
			t.Fatalf("wrong date of birth: %d", res.StatusCode)
		}
		res = b.rawDo(
			t,
			"POST",
			path+"/verify",
			url.Values{"code": {code}, "knowledge": {"02/03/1980"}},
			"",
		)
		if res.StatusCode != http.StatusSeeOther {
			t.Fatalf("right code: %d %s", res.StatusCode, readAll(t, res))
		}
		cookies := res.Cookies()
		if len(cookies) != 1 || !cookies[0].Secure || !cookies[0].HttpOnly ||
			cookies[0].SameSite != http.SameSiteStrictMode {
			t.Fatalf("session cookie: %+v", cookies)
		}
		cookie := cookies[0].Name + "=" + cookies[0].Value

		res = b.rawDo(t, "GET", path, nil, cookie)
		if page := readAll(t, res); res.StatusCode != 200 ||
			!strings.Contains(page, "PHI-CANARY-5b1e Atorvastatin") {
			t.Fatalf("content page: %d %s", res.StatusCode, page)
		}
		res = b.rawDo(t, "GET", path, nil, cookie)
		if page := readAll(t, res); strings.Contains(page, "PHI-CANARY") ||
			!strings.Contains(page, "Already shown") {
			t.Fatalf("second view in one session: %s", page)
		}
		if res := b.rawDo(t, "POST", path+"/verify", url.Values{"code": {code}, "knowledge": {"1980-02-03"}}, ""); res.StatusCode != 401 {
			t.Fatalf("a used code works again: %d", res.StatusCode)
		}

		events, err := b.db.ListPortalEvents(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		var kinds []string
		for _, e := range events {
			kinds = append(kinds, e.Kind)
		}
		got := strings.Join(kinds, ",")
		for _, want := range []string{"code_sent", "verify_failed", "verified", "view"} {
			if !strings.Contains(got, want) {
				t.Fatalf("events %s lack %s", got, want)
			}
		}

		// At expiry the ciphertext is deleted, not hidden: not even its
		// bytes stay in the SQLite files.
		stored, err := b.db.GetPayload(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.db.PurgeExpired(context.Background(), time.Now().Add(49*time.Hour), time.Minute); err != nil {
			t.Fatal(err)
		}
		if d == migrations.SQLite {
			files, _ := filepath.Glob(filepath.Join(b.dataDir, "sealpost.db*"))
			for _, f := range files {
				raw, _ := os.ReadFile(f)
				if bytes.Contains(raw, stored.Ciphertext) {
					t.Fatalf("the purged ciphertext is still in %s", filepath.Base(f))
				}
			}
		}
		if _, err := b.db.GetPayload(context.Background(), id); err == nil {
			t.Fatal("payload still stored after expiry")
		}
		if res := b.rawDo(t, "GET", path, nil, ""); res.StatusCode != 404 {
			t.Fatalf("expired link: %d", res.StatusCode)
		}
	})
}

func TestPortalLocksAfterFiveFailures(t *testing.T) {
	t.Parallel()
	b := portalSetup(t, migrations.SQLite)
	id := b.send(t, map[string]any{"template": "rx-ready", "to": "pat@example.test",
		"data": map[string]any{
			"first_name": "Pat",
			"shop_name":  "Acme",
		}, "sensitive": map[string]any{"items": "x"}})
	b.waitStatus(t, id, "sent")
	m := linkRE.FindStringSubmatch(decodedBody(t, b.sink.WaitMessages(1, 10*time.Second)[0].Data))
	path := "/p/" + m[1]
	b.rawDo(t, "POST", path+"/code", url.Values{}, "")
	for i := range 5 {
		res := b.rawDo(t, "POST", path+"/verify", url.Values{"code": {"000000"}}, "")
		want := 401
		if i == 4 {
			want = 403
		}
		if res.StatusCode != want {
			t.Fatalf("attempt %d: %d, want %d", i+1, res.StatusCode, want)
		}
	}
	if res := b.rawDo(t, "GET", path, nil, ""); res.StatusCode != 403 {
		t.Fatalf("locked link: %d", res.StatusCode)
	}
	if res := b.rawDo(t, "GET", "/p/"+strings.Repeat("A", 43), nil, ""); res.StatusCode != 404 {
		t.Fatalf("unknown link: %d", res.StatusCode)
	}
}

func TestSensitivePayloadRules(t *testing.T) {
	t.Parallel()
	b := portalSetup(t, migrations.SQLite)
	b.putOrderTemplate(t)
	base := func() map[string]any {
		return map[string]any{"template": "rx-ready", "to": "pat@example.test",
			"data": map[string]any{"first_name": "Pat", "shop_name": "Acme"}}
	}
	tests := []struct {
		name    string
		mutate  func(m map[string]any)
		pointer string
	}{
		{"portal template without payload", func(m map[string]any) {}, "/sensitive"},
		{
			"payload not an object",
			func(m map[string]any) { m["sensitive"] = []any{sensitiveCanary} },
			"/sensitive",
		},
		{"template without a link", func(m map[string]any) {
			m["template"] = "order-shipped"
			m["data"] = orderMessage()["data"]
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
		}, "/template"},
		{"client sets the link", func(m map[string]any) {
			m["data"].(map[string]any)["portal_url"] = "https://attacker.test/"
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
		}, "/data/portal_url"},
		{"bad expiry", func(m map[string]any) {
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
			m["portal"] = map[string]any{"expires_in": "9999h"}
		}, "/portal/expires_in"},
		{"impossible date of birth", func(m map[string]any) {
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
			m["portal"] = map[string]any{"knowledge": map[string]any{"type": "dob", "answer": "1980-02-30"}}
		}, "/portal/knowledge/answer"},
		{"ZIP that is not one", func(m map[string]any) {
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
			m["portal"] = map[string]any{"knowledge": map[string]any{"type": "zip", "answer": "abc"}}
		}, "/portal/knowledge/answer"},
		{"bad knowledge type", func(m map[string]any) {
			m["sensitive"] = map[string]any{"x": sensitiveCanary}
			m["portal"] = map[string]any{"knowledge": map[string]any{"type": "ssn", "answer": "1"}}
		}, "/portal/knowledge/type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base()
			tt.mutate(m)
			res := b.do(t, "POST", "/v1/messages", b.sender, m)
			if res.status != 422 ||
				!bytes.Contains(res.body, []byte(`"pointer":"`+tt.pointer+`"`)) {
				t.Fatalf("%d %s", res.status, res.body)
			}
			if bytes.Contains(res.body, []byte("CANARY")) {
				t.Fatal("problem echoes the payload")
			}
		})
	}
}

// Concurrent verifications cannot stretch the rules: one code gives one
// session, guesses cannot pass the attempt limit, and a HEAD does not use
// up the view.
func TestPortalUnderConcurrency(t *testing.T) {
	t.Parallel()
	b := portalSetup(t, migrations.SQLite)
	id := b.send(t, map[string]any{"template": "rx-ready", "to": "pat@example.test",
		"data": map[string]any{"first_name": "Pat", "shop_name": "Acme"}, "sensitive": map[string]any{"items": "x"}})
	b.waitStatus(t, id, "sent")
	path := "/p/" + linkRE.FindStringSubmatch(decodedBody(t, b.sink.WaitMessages(1, 10*time.Second)[0].Data))[1]
	b.rawDo(t, "POST", path+"/code", url.Values{}, "")
	code := codeRE.FindStringSubmatch(decodedBody(t, b.sink.WaitMessages(2, 10*time.Second)[1].Data))[1]

	results := make(chan *http.Response, 4)
	for range 4 {
		go func() { results <- b.rawDo(t, "POST", path+"/verify", url.Values{"code": {code}}, "") }()
	}
	sessions, cookie := 0, ""
	for range 4 {
		if r := <-results; r.StatusCode == http.StatusSeeOther {
			sessions++
			cookie = r.Cookies()[0].Name + "=" + r.Cookies()[0].Value
		}
	}
	if sessions != 1 {
		t.Fatalf("one code gave %d sessions", sessions)
	}
	if r := b.rawDo(t, "HEAD", path, nil, cookie); r.StatusCode != 200 {
		t.Fatalf("HEAD: %d", r.StatusCode)
	}
	if page := readAll(t, b.rawDo(t, "GET", path, nil, cookie)); !strings.Contains(page, "shown once") {
		t.Fatalf("the view was used up by a HEAD: %s", page)
	}

	// Forty simultaneous wrong guesses on a fresh link.
	id2 := b.send(t, map[string]any{"template": "rx-ready", "to": "sam@example.test",
		"data": map[string]any{"first_name": "Sam", "shop_name": "Acme"}, "sensitive": map[string]any{"items": "y"}})
	b.waitStatus(t, id2, "sent")
	var link2 string
	for _, m := range b.sink.Messages() {
		if l := linkRE.FindStringSubmatch(decodedBody(t, m.Data)); l != nil && m.To[0] ==
			"sam@example.test" {
			link2 = "/p/" + l[1]
		}
	}
	b.rawDo(t, "POST", link2+"/code", url.Values{}, "")
	done := make(chan int, 40)
	for range 40 {
		go func() { done <- b.rawDo(t, "POST", link2+"/verify", url.Values{"code": {"000000"}}, "").StatusCode }()
	}
	checked := 0
	for range 40 {
		if <-done == http.StatusUnauthorized {
			checked++
		}
	}
	if checked > 5 {
		t.Fatalf("%d guesses were checked, the limit is 5", checked)
	}
}
