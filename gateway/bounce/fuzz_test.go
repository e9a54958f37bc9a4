package bounce_test

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sealpost/sealpost/gateway/bounce"
)

// FuzzParse checks that Parse never panics and that every Report it makes
// is value-free: known kind and action, a well-formed status or none, and
// a recipient and ids of printable ASCII only.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.eml"))
	for _, file := range files {
		b, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("From: mailer-daemon@x.example.test\r\n\r\n<a@example.test>: 550 5.1.1 no\r\n"))
	f.Add([]byte("Content-Type: multipart/report; report-type=delivery-status; boundary=b\r\n" +
		"\r\n--b\r\nContent-Type: message/delivery-status\r\n\r\nStatus: 5.1.1\r\n--b--\r\n"))

	f.Fuzz(func(t *testing.T, data []byte) {
		reports, err := bounce.Parse(bytes.NewReader(data))
		if err != nil && len(reports) > 0 {
			t.Fatal("reports returned with an error")
		}
		for _, r := range reports {
			checkValueFree(t, r)
		}
	})
}

func checkValueFree(t *testing.T, r bounce.Report) {
	t.Helper()
	switch r.Kind {
	case bounce.KindBounce, bounce.KindDelay, bounce.KindComplaint, bounce.KindDelivery:
	default:
		t.Fatalf("unknown kind %q", r.Kind)
	}
	for name, v := range map[string]string{"recipient": r.Recipient, "status": r.Status,
		"original message id": r.OriginalMessageID, "feedback type": r.FeedbackType} {
		for i := 0; i < len(v); i++ {
			if v[i] <= ' ' || v[i] >= 0x7f {
				t.Fatalf("%s has byte %#x", name, v[i])
			}
		}
	}
	if r.Recipient != "" && strings.Count(r.Recipient, "@") != 1 {
		t.Fatalf("recipient not an addr-spec: %q", r.Recipient)
	}
	if r.Status != "" {
		if _, ok := bounce.Classify(r.Status); !ok {
			t.Fatalf("status %q is not an enhanced code", r.Status)
		}
	}
	if r.Hard && r.Kind != bounce.KindBounce {
		t.Fatalf("hard %s", r.Kind)
	}
	if r.MessageID != "" {
		t.Fatal("parser filled MessageID")
	}
}

// FuzzVERP checks that Address and MessageID round-trip and that an address
// MessageID accepts is exactly, ignoring case and brackets, the one Address
// builds: no second spelling of a token verifies.
func FuzzVERP(f *testing.F) {
	v := testVERP()
	f.Add(testMessageID, v.Address(testMessageID))
	f.Add("msg-1", strings.ToUpper(v.Address("msg-1")))
	f.Add("", "bounces+aaaa@mail.example.test")
	f.Add("x", "<postmaster@mail.example.test>")

	f.Fuzz(func(t *testing.T, id, rcpt string) {
		if addr := v.Address(id); addr != "" {
			got, ok := v.MessageID(addr)
			if !ok || got != id {
				t.Fatalf("round trip of %q gave %q, %v", id, got, ok)
			}
			if len(addr) > bounce.MaxLocalPart+1+len(v.Domain) {
				t.Fatalf("address too long: %d", len(addr))
			}
		}
		got, ok := v.MessageID(rcpt)
		if !ok {
			return
		}
		want := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(rcpt, "<"), ">"))
		if v.Address(got) != want {
			t.Fatalf("accepted %q as %q, which Address spells %q", rcpt, got, v.Address(got))
		}
	})
}

// FuzzParseJSONEvents checks that accepted events map to value-free
// Reports and that nothing panics.
func FuzzParseJSONEvents(f *testing.F) {
	f.Add([]byte(`{"type":"bounce","message_id":"m","recipient":"a@example.test",` +
		`"status":"5.1.1","timestamp":"2025-03-10T12:00:00Z"}`))
	f.Add([]byte(`[{"type":"complaint","message_id":"m","recipient":"a@example.test",` +
		`"timestamp":"2025-03-10T12:00:00Z"}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		reports, err := bounce.ParseJSONEvents(bytes.NewReader(data))
		if err != nil {
			return
		}
		for _, r := range reports {
			if r.MessageID == "" || r.Recipient == "" {
				t.Fatal("accepted event without id or recipient")
			}
			r.MessageID = ""
			checkValueFree(t, r)
		}
	})
}
