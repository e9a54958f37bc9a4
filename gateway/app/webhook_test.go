package app_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
	"github.com/sealpost/sealpost/migrations"
)

// Delivery events reach the sender's backend signed, PHI-free, and queued
// in the transaction that records the outcome.
func TestWebhookEvents(t *testing.T) {
	t.Parallel()
	eachDB(t, func(t *testing.T, d migrations.Dialect) {
		secretText, err := webhook.GenerateSecret()
		if err != nil {
			t.Fatal(err)
		}
		secrets, err := webhook.ParseSecrets(secretText)
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var events []webhook.Event
		var bodies []string
		receiver := httptest.NewServer(
			http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				body, _ := io.ReadAll(r.Body)
				if err := webhook.Verify(secrets.Current, r.Header.Get(webhook.HeaderSignature), body,
					time.Now(), webhook.DefaultTolerance); err != nil {
					http.Error(w, "bad signature", http.StatusUnauthorized)
					return
				}
				var e webhook.Event
				_ = json.Unmarshal(body, &e)
				mu.Lock()
				events, bodies = append(events, e), append(bodies, string(body))
				mu.Unlock()
				w.WriteHeader(http.StatusNoContent)
			}),
		)
		defer receiver.Close()

		b := setup(t, d, setupOpts{config: map[string]string{
			"SEALPOST_WEBHOOK_URL": receiver.URL, "SEALPOST_WEBHOOK_SECRETS": secretText}})
		b.putOrderTemplate(t)
		id := b.send(t, orderMessage())
		b.waitStatus(t, id, "sent")

		deadline := time.Now().Add(15 * time.Second)
		for {
			mu.Lock()
			n := len(events)
			mu.Unlock()
			if n > 0 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no webhook arrived")
			}
			time.Sleep(20 * time.Millisecond)
		}
		mu.Lock()
		defer mu.Unlock()
		e := events[0]
		if e.Type != webhook.TypeSent || e.MessageID != id || e.ReplyCode != 250 {
			t.Fatalf("event %+v", e)
		}
		if strings.Contains(bodies[0], "example.test") || strings.Contains(bodies[0], "Pat") {
			t.Fatalf("webhook body carries personal data: %s", bodies[0])
		}
	})
}
