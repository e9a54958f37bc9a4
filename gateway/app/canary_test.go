package app_test

import (
	"bytes"
	"context"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/migrations"
)

// lockedBuffer collects log lines from many goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestCanaryNeverLeaks is the permanent guard of the PHI boundary: a unique
// canary placed in a sensitive payload, in a data value that is refused and
// in a template that is refused must appear nowhere in clear afterwards —
// not in any database row (River's job rows included), not in the database
// files, not in any log line at debug level, not on the metrics page, not in
// any API or portal response outside the verified view, and not in any
// message the relay received.
func TestCanaryNeverLeaks(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		canary := "PHICANARY" + strings.ReplaceAll(t.Name(), "/", "") + "x7Q"
		logs := &lockedBuffer{}
		b := portalSetup(t, d, logs)
		var responses bytes.Buffer

		// 1. A sensitive payload, delivered through the portal path.
		res := b.do(t, "POST", "/v1/messages", b.sender, map[string]any{
			"template": "rx-ready", "to": map[string]any{"email": "pat@example.test", "name": "Pat"},
			"data": map[string]any{"first_name": "Pat", "shop_name": "Acme"},
			"sensitive": map[string]any{
				"items": canary + " insulin glargine 100 U/mL",
				"note":  canary,
			},
			"portal": map[string]any{
				"knowledge": map[string]any{"type": "zip", "answer": "94110"},
			},
		})
		responses.Write(res.body)
		if res.status != 202 {
			t.Fatalf("send: %d %s", res.status, res.body)
		}
		id := res.json(t)["id"].(string)
		b.waitStatus(t, id, "sent")

		// 2. A data value that is refused.
		res = b.do(
			t,
			"POST",
			"/v1/messages",
			b.sender,
			withData("first_name", canary+"\r\nBcc: x@attacker.test"),
		)
		responses.Write(res.body)
		if res.status != 422 {
			t.Fatalf("refused data: %d", res.status)
		}
		res = b.do(t, "POST", "/v1/messages", b.sender, withData("diagnosis", canary))
		responses.Write(res.body)

		// 3. A template that is refused.
		res = b.do(t, "PUT", "/v1/templates/leaky", b.admin, map[string]any{
			"subject": "Hello " + canary + " {{.undeclared}}", "text": canary, "variables": map[string]any{}})
		responses.Write(res.body)
		if res.status != 422 {
			t.Fatalf("refused template: %d %s", res.status, res.body)
		}

		// The portal before verification, and a failed verification.
		msgs := b.sink.WaitMessages(1, 10*time.Second)
		link := linkRE.FindStringSubmatch(decodedBody(t, msgs[0].Data))
		if link == nil {
			t.Fatal("no portal link")
		}
		path := "/p/" + link[1]
		responses.WriteString(readAll(t, b.rawDo(t, "GET", path, nil, "")))
		b.rawDo(t, "POST", path+"/code", url.Values{}, "")
		responses.WriteString(readAll(t, b.rawDo(t, "POST", path+"/verify",
			url.Values{"code": {"000000"}, "knowledge": {canary}}, "")))
		b.sink.WaitMessages(2, 10*time.Second)
		status := b.do(t, "GET", "/v1/messages/"+id, b.sender, nil)
		responses.Write(status.body)

		// Let the worker finish its bookkeeping, then collect everything.
		time.Sleep(300 * time.Millisecond)
		dump, err := b.db.DumpAllForTest(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(dump, "sealpost_payload") || !strings.Contains(dump, id) {
			t.Fatal("the dump does not cover the payload table; the test would prove nothing")
		}
		var files strings.Builder
		if d == migrations.SQLite {
			matches, _ := filepath.Glob(filepath.Join(b.dataDir, "sealpost.db*"))
			if len(matches) == 0 {
				t.Fatal("no database files found")
			}
			for _, f := range matches {
				raw, err := os.ReadFile(f)
				if err != nil {
					t.Fatal(err)
				}
				files.Write(raw)
			}
		}
		var mail bytes.Buffer
		for _, m := range b.sink.Messages() {
			mail.Write(m.Data)
			mail.WriteString(decodedBody(t, m.Data))
		}
		if logs.String() == "" {
			t.Fatal("no log lines captured; the test would prove nothing")
		}
		metricsPage := b.do(t, "GET", "/metrics", b.admin, nil)
		if metricsPage.status != 200 ||
			!bytes.Contains(metricsPage.body, []byte("sealpost_messages_accepted_total")) ||
			!bytes.Contains(metricsPage.body, []byte("sealpost_portal_events_total")) {
			t.Fatalf("metrics page: %d", metricsPage.status)
		}
		if res := b.do(t, "GET", "/metrics", b.sender, nil); res.status != 403 {
			t.Fatalf("metrics for a sender key: %d", res.status)
		}

		for where, text := range map[string]string{
			"database rows": dump, "database files": files.String(), "logs": logs.String(),
			"API and portal responses": responses.String(), "mail": mail.String(),
			"metrics page": string(metricsPage.body),
		} {
			if strings.Contains(text, canary) {
				t.Errorf("the canary appears in the %s", where)
			}
		}
	})
}
