package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/app"
	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/smtptest"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
)

const testFrom = "Acme Pharmacy <noreply@shop.example.test>"

// bundle is one running gateway in serve mode with its relay and keys.
type bundle struct {
	base    string
	admin   string
	sender  string
	sink    *smtptest.Server
	db      *store.DB
	dkimKey *dkim.Key
	stop    func()
	dataDir string
	app     *app.App
}

type setupOpts struct {
	sink   smtptest.Options
	config map[string]string
	// logs, when set, receives the gateway's log at debug level.
	logs io.Writer
}

func setup(t *testing.T, d migrations.Dialect, o setupOpts) *bundle {
	t.Helper()
	ctx := context.Background()
	databaseURL, dataDir := storetest.Location(t, d)
	if dataDir == "" {
		dataDir = t.TempDir()
	}
	db, err := store.Open(ctx, databaseURL, dataDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatal(err)
	}

	sink := smtptest.Start(t, o.sink)
	caFile := filepath.Join(dataDir, "relay-ca.pem")
	if err := os.WriteFile(caFile, sink.CA.CertPEM, 0o600); err != nil {
		t.Fatal(err)
	}
	dkimDir := filepath.Join(dataDir, "dkim")
	ks, err := dkim.OpenKeystore(dkimDir)
	if err != nil {
		t.Fatal(err)
	}
	key, err := dkim.Generate(dkim.RSA, "shop.example.test", "s1")
	if err != nil {
		t.Fatal(err)
	}
	if err := ks.Save(key); err != nil {
		t.Fatal(err)
	}

	overrides := map[string]string{
		"SEALPOST_DATA_DIR":         dataDir,
		"SEALPOST_DATABASE_URL":     databaseURL,
		"SEALPOST_HTTP_ADDR":        "127.0.0.1:0",
		"SEALPOST_FROM":             testFrom,
		"SEALPOST_RELAY_HOST":       sink.Host,
		"SEALPOST_RELAY_PORT":       strconv.Itoa(sink.Port),
		"SEALPOST_RELAY_CA_FILE":    caFile,
		"SEALPOST_DKIM_DIR":         dkimDir,
		"SEALPOST_SHUTDOWN_TIMEOUT": "2s",
	}
	if o.sink.ImplicitTLS {
		overrides["SEALPOST_RELAY_TLS"] = "implicit"
	}
	for k, v := range o.config {
		overrides[k] = v
	}
	cfg, err := config.Load("", overrides)
	if err != nil {
		t.Fatal(err)
	}
	var logger *slog.Logger
	if o.logs != nil {
		logger = slog.New(slog.NewJSONHandler(o.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	a, err := app.New(ctx, app.Options{Config: cfg, Out: io.Discard, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
	t.Cleanup(stop)

	admin, _, err := apikey.Create(ctx, db, "admin", []apikey.Role{apikey.Admin})
	if err != nil {
		t.Fatal(err)
	}
	sender, _, err := apikey.Create(ctx, db, "shop", []apikey.Role{apikey.Sender})
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{base: "http://" + a.HTTPAddr(), admin: admin, sender: sender, sink: sink, db: db,
		dkimKey: key, stop: stop, dataDir: dataDir, app: a}
}

type response struct {
	status int
	header http.Header
	body   []byte
}

func (r *response) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("response is not JSON (%d): %s", r.status, r.body)
	}
	return m
}

func (b *bundle) do(t *testing.T, method, path, key string, body any, headers ...string) *response {
	t.Helper()
	var rd io.Reader
	switch v := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(v)
	case []byte:
		rd = bytes.NewReader(v)
	default:
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, b.base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	data, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return &response{status: res.StatusCode, header: res.Header, body: data}
}

// orderTemplate is the template most tests send with.
var orderTemplate = map[string]any{
	"subject": "Your {{.shop_name}} order {{.order_number}} has shipped",
	"text":    "Hi {{.first_name}},\n\nOrder {{.order_number}} is on its way.\n{{if .note}}{{.note}}\n{{end}}",
	"html":    "<p>Hi {{.first_name}},</p><p>Order <b>{{.order_number}}</b> is on its way.</p>",
	"variables": map[string]any{
		"first_name":   map[string]any{"type": "string", "required": true},
		"order_number": map[string]any{"type": "string", "required": true},
		"shop_name":    map[string]any{"type": "string", "required": true},
		"note":         map[string]any{"type": "string", "multiline": true},
	},
}

func (b *bundle) putOrderTemplate(t *testing.T) {
	t.Helper()
	res := b.do(t, "PUT", "/v1/templates/order-shipped", b.admin, orderTemplate)
	if res.status != http.StatusCreated {
		t.Fatalf("PUT template: %d %s", res.status, res.body)
	}
}

func orderMessage() map[string]any {
	return map[string]any{
		"template": "order-shipped",
		"to":       map[string]any{"email": "pat@example.test", "name": "Pat Doe"},
		"data": map[string]any{
			"first_name":   "Pat",
			"order_number": "A-1001",
			"shop_name":    "Acme",
		},
	}
}

func (b *bundle) send(t *testing.T, msg map[string]any, headers ...string) string {
	t.Helper()
	res := b.do(t, "POST", "/v1/messages", b.sender, msg, headers...)
	if res.status != http.StatusAccepted {
		t.Fatalf("POST message: %d %s", res.status, res.body)
	}
	return res.json(t)["id"].(string)
}

// waitStatus polls the message until its status is want.
func (b *bundle) waitStatus(t *testing.T, id, want string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		res := b.do(t, "GET", "/v1/messages/"+id, b.sender, nil)
		if res.status != http.StatusOK {
			t.Fatalf("GET message: %d %s", res.status, res.body)
		}
		m := res.json(t)
		if m["status"] == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message status %v, want %s: %s", m["status"], want, res.body)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func mustJSON(v any) []byte {
	b, _ := json.Marshal(v)
	return b
}
