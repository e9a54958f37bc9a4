package app_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/app"
	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
)

func startDev(t *testing.T, databaseURL, dataDir string) (*app.App, func()) {
	t.Helper()
	cfg, err := config.Load("", map[string]string{"SEALPOST_DATA_DIR": dataDir,
		"SEALPOST_DATABASE_URL": databaseURL, "SEALPOST_HTTP_ADDR": "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	a, err := app.New(context.Background(), app.Options{Config: cfg, Dev: true, Out: io.Discard})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.Run(ctx) }()
	return a, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	}
}

// The README's tour: dev mode on an empty directory accepts a message for
// an example template and shows it in the inbox, DKIM-signed, over TLS.
func TestDevModeTour(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		databaseURL, dataDir := storetest.Location(t, d)
		if dataDir == "" {
			dataDir = t.TempDir()
		}
		a, stop := startDev(t, databaseURL, dataDir)
		keyFile := filepath.Join(dataDir, app.DevKeyFile)
		fi, err := os.Stat(keyFile)
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("dev key file: %v %v", fi, err)
		}
		b := &bundle{base: "http://" + a.HTTPAddr(), sender: a.DevKey(), admin: a.DevKey()}
		id := b.send(t, map[string]any{
			"template": "order-shipped", "to": "pat@example.test",
			"data": map[string]any{
				"first_name":   "Pat",
				"order_number": "A-1001",
				"shop_name":    "Acme Pharmacy",
				"tracking_url": "https://track.example.test/A-1001",
			},
		})
		b.waitStatus(t, id, "sent")

		res := b.do(t, "GET", "/dev/inbox", "", nil)
		var inbox struct {
			Messages []struct {
				ID, Subject, DKIM, EML string
				TLSVersion             string `json:"tls_version"`
			}
		}
		if err := json.Unmarshal(res.body, &inbox); err != nil || len(inbox.Messages) != 1 {
			t.Fatalf("inbox: %s", res.body)
		}
		item := inbox.Messages[0]
		if item.DKIM != "pass" || !strings.HasPrefix(item.TLSVersion, "TLS 1.") ||
			item.TLSVersion < "TLS 1.2" ||
			item.Subject != "Your Acme Pharmacy order A-1001 is on its way" {
			t.Fatalf("inbox item: %+v", item)
		}
		eml := b.do(t, "GET", item.EML, "", nil)
		if eml.status != http.StatusOK || !bytes.HasPrefix(eml.body, []byte("DKIM-Signature:")) {
			t.Fatalf("eml: %d %.80q", eml.status, eml.body)
		}
		if res := b.do(t, "GET", "/dev/inbox/..%2f..%2fdev-api-key", "", nil); res.status != http.StatusNotFound {
			t.Fatalf("inbox path traversal: %d", res.status)
		}
		stop()

		// A second start reuses the key, the DKIM key and the templates.
		a2, stop2 := startDev(t, databaseURL, dataDir)
		defer stop2()
		if a2.DevKey() != a.DevKey() {
			t.Fatal("dev key changed across restarts")
		}
		b2 := &bundle{base: "http://" + a2.HTTPAddr(), sender: a2.DevKey(), admin: a2.DevKey()}
		res = b2.do(t, "GET", "/v1/templates/order-shipped", b2.admin, nil)
		if res.status != 200 || res.json(t)["version"].(float64) != 1 {
			t.Fatalf("templates duplicated on restart: %s", res.body)
		}
	})
}

// serve mode has no dev routes.
func TestServeHasNoInbox(t *testing.T) {
	t.Parallel()
	b := setup(t, migrations.SQLite, setupOpts{})
	if res := b.do(t, "GET", "/dev/inbox", "", nil); res.status != http.StatusNotFound {
		t.Fatalf("/dev/inbox in serve mode: %d", res.status)
	}
}
