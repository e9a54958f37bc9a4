package webhook_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/webhook"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testSecret returns a fixed secret of n bytes starting at first.
func testSecret(first byte) []byte {
	key := make([]byte, webhook.MinSecretBytes)
	for i := range key {
		key[i] = first + byte(i)
	}

	return key
}

// testEvent returns a valid bounce event with every field set.
func testEvent() webhook.Event {
	return webhook.Event{
		ID:           "0190a8f2-7c3e-7d4a-9b1e-5f2a6c8d9e01",
		Type:         webhook.TypeBounced,
		MessageID:    "0190a8f1-0000-7000-8000-000000000001",
		Status:       "failed",
		ReplyCode:    550,
		EnhancedCode: "5.1.1",
		Reason:       "mailbox_unavailable",
		OccurredAt:   time.Date(2025, 3, 14, 15, 9, 26, 535000000, time.UTC),
	}
}

// golden compares got with testdata/name, rewriting it under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()

	path := filepath.Join("testdata", name)

	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("write golden: %v", err)
		}
	}

	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}

	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from golden:\ngot:  %s\nwant: %s", name, got, want)
	}
}
