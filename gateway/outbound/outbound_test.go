package outbound_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	msgauth "github.com/emersion/go-msgauth/dkim"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/store"
)

func TestBuildRendersAndSigns(t *testing.T) {
	t.Parallel()
	o, m, key := setupBuild(t, dkim.Ed25519)
	raw, err := o.Build(context.Background(), m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(raw, []byte("DKIM-Signature: ")) {
		t.Fatalf("message does not start with its signature: %.60q", raw)
	}
	if !bytes.Contains(raw, []byte("Message-ID: <0123456789abcdef@shop.example.test>")) {
		t.Fatal("stored Message-ID not used")
	}
	vs, err := msgauth.VerifyWithOptions(bytes.NewReader(raw), &msgauth.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if name != key.RecordName() {
				return nil, errors.New("no such record")
			}
			return []string{key.TXTRecord()}, nil
		},
	})
	if err != nil || len(vs) != 1 || vs[0].Err != nil {
		t.Fatalf("DKIM: %v %+v", err, vs)
	}
	for _, want := range []string{"Subject: Your Acme Pharmacy order A-1001 has shipped",
		"To: Pat Doe <pat@example.test>", "Track it at https://track.example.test/A-1001"} {
		if !bytes.Contains(raw, []byte(want)) {
			t.Fatalf("message lacks %q", want)
		}
	}
}

func TestDeliverReportsBuildFailuresWithoutContent(t *testing.T) {
	t.Parallel()
	o, m, _ := setupBuild(t, dkim.Ed25519)
	tests := []struct {
		name   string
		mutate func(m *store.Message)
		want   store.Status
	}{
		{
			"template version gone",
			func(m *store.Message) { m.TemplateVersion = 99 },
			store.StatusFailed,
		},
		{"unreadable data", func(m *store.Message) { m.Data = "{CANARY" }, store.StatusFailed},
		{
			"recipient no longer valid",
			func(m *store.Message) { m.Recipient = "CANARY@@x" },
			store.StatusFailed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			mm := *m
			tt.mutate(&mm)
			out := o.Deliver(context.Background(), &mm)
			if out.Status != tt.want || out.Reason == "" || strings.Contains(out.Reason, "CANARY") {
				t.Fatalf("outcome = %+v", out)
			}
		})
	}
}
