package webhook_test

import (
	"encoding/json"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
)

func TestValidateAccepts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		change func(*webhook.Event)
	}{
		{"full bounce", func(*webhook.Event) {}},
		{"minimal sent", func(e *webhook.Event) {
			*e = webhook.Event{ID: "evt_1", Type: webhook.TypeSent, MessageID: "m1",
				Status: "sent", OccurredAt: time.Unix(1, 0)}
		}},
		{"deferred with 4xx", func(e *webhook.Event) {
			e.Type, e.Status, e.ReplyCode, e.EnhancedCode = "deferred", "deferred", 451, "4.7.0"
		}},
		{"three-digit subject and detail", func(e *webhook.Event) { e.EnhancedCode = "5.123.456" }},
		{"reason phrase", func(e *webhook.Event) { e.Reason = "certificate not trusted" }},
		{"reason with codes", func(e *webhook.Event) { e.Reason = "tls: version 1.0" }},
		{"every type", func(e *webhook.Event) { e.Type = webhook.TypeUnsubscribed }},
		{"suppressed", func(e *webhook.Event) {
			e.Type, e.Status = webhook.TypeSuppressed, "suppressed"
		}},
		{"complained", func(e *webhook.Event) { e.Type = webhook.TypeComplained }},
		{"64-character id", func(e *webhook.Event) { e.ID = strings.Repeat("a", 64) }},
		{"non-UTC time", func(e *webhook.Event) {
			e.OccurredAt = time.Date(2025, 1, 1, 0, 0, 0, 0, time.FixedZone("x", 3600))
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e := testEvent()
			tt.change(&e)

			if err := e.Validate(); err != nil {
				t.Fatalf("Validate: %v", err)
			}
		})
	}
}

func TestValidateRejects(t *testing.T) {
	t.Parallel()

	const canary = "CANARY-7f3a"

	tests := []struct {
		name   string
		field  string
		change func(*webhook.Event)
	}{
		{"missing id", "id", func(e *webhook.Event) { e.ID = "" }},
		{"id too long", "id", func(e *webhook.Event) { e.ID = strings.Repeat("a", 65) }},
		{"address as id", "id", func(e *webhook.Event) { e.ID = canary + "@example.test" }},
		{"id with space", "id", func(e *webhook.Event) { e.ID = "a b" }},
		{"unknown type", "type", func(e *webhook.Event) { e.Type = "opened" }},
		{"type case", "type", func(e *webhook.Event) { e.Type = "Sent" }},
		{"missing message id", "message_id", func(e *webhook.Event) { e.MessageID = "" }},
		{"address as message id", "message_id", func(e *webhook.Event) {
			e.MessageID = "<" + canary + "@mx.example.test>"
		}},
		{"unknown status", "status", func(e *webhook.Event) { e.Status = "delivered" }},
		{"reply code too low", "reply_code", func(e *webhook.Event) { e.ReplyCode = 199 }},
		{"reply code too high", "reply_code", func(e *webhook.Event) { e.ReplyCode = 600 }},
		{"negative reply code", "reply_code", func(e *webhook.Event) { e.ReplyCode = -550 }},
		{"enhanced class 3", "enhanced_code", func(e *webhook.Event) { e.EnhancedCode = "3.1.1" }},
		{"enhanced text", "enhanced_code", func(e *webhook.Event) { e.EnhancedCode = canary }},
		{"enhanced four digits", "enhanced_code", func(e *webhook.Event) {
			e.EnhancedCode = "5.1234.1"
		}},
		{"enhanced missing detail", "enhanced_code", func(e *webhook.Event) {
			e.EnhancedCode = "5.1."
		}},
		{"reason with address", "reason", func(e *webhook.Event) {
			e.Reason = "user " + strings.ToLower(canary) + "@example.test unknown"
		}},
		{"reason with url", "reason", func(e *webhook.Event) {
			e.Reason = "see https://example.test/x"
		}},
		{"reason with query value", "reason", func(e *webhook.Event) { e.Reason = "token=abc" }},
		{"reason with name", "reason", func(e *webhook.Event) { e.Reason = "Pat Smith" }},
		{"reason with newline", "reason", func(e *webhook.Event) { e.Reason = "a\nb" }},
		{"reason too long", "reason", func(e *webhook.Event) {
			e.Reason = strings.Repeat("a", webhook.MaxReasonLength+1)
		}},
		{"zero time", "occurred_at", func(e *webhook.Event) { e.OccurredAt = time.Time{} }},
		{"five-digit year", "occurred_at", func(e *webhook.Event) {
			e.OccurredAt = time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			e := testEvent()
			tt.change(&e)

			err := e.Validate()

			var invalid *webhook.InvalidEventError
			if !errors.As(err, &invalid) || !errors.Is(err, webhook.ErrInvalidEvent) {
				t.Fatalf("Validate = %v, want *InvalidEventError", err)
			}

			if invalid.Field != tt.field {
				t.Fatalf("Field = %q, want %q", invalid.Field, tt.field)
			}

			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(canary)) {
				t.Fatalf("error repeats the value: %v", err)
			}

			if _, err := webhook.Encode(e); !errors.Is(err, webhook.ErrInvalidEvent) {
				t.Fatalf("Encode = %v, want ErrInvalidEvent", err)
			}
		})
	}
}

// TestCanaryReasonRejected pins the PHI boundary: an address-shaped canary
// in the reason never reaches a payload.
func TestCanaryReasonRejected(t *testing.T) {
	t.Parallel()

	const canary = "canary-4b1d@patient.example"

	e := testEvent()
	e.Reason = "recipient " + canary + " rejected"

	err := e.Validate()
	if !errors.Is(err, webhook.ErrInvalidEvent) {
		t.Fatalf("Validate = %v, want ErrInvalidEvent", err)
	}

	if strings.Contains(err.Error(), canary) || strings.Contains(err.Error(), "@") {
		t.Fatalf("error repeats the canary: %v", err)
	}

	body, err := webhook.Encode(e)
	if err == nil || body != nil {
		t.Fatalf("Encode produced a body for an invalid event")
	}
}

// TestPayloadSchema marshals events and checks that the JSON object holds the
// schema's keys and nothing else.
func TestPayloadSchema(t *testing.T) {
	t.Parallel()

	required := []string{"id", "type", "message_id", "status", "occurred_at"}
	optional := []string{"reply_code", "enhanced_code", "reason"}

	tests := []struct {
		name  string
		event webhook.Event
		want  []string
	}{
		{"all fields", testEvent(), append(slices.Clone(required), optional...)},
		{"no codes", webhook.Event{ID: "e1", Type: "sent", MessageID: "m1", Status: "sent",
			OccurredAt: time.Unix(1700000000, 0)}, required},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			body, err := webhook.Encode(tt.event)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}

			var fields map[string]json.RawMessage
			if err := json.Unmarshal(body, &fields); err != nil {
				t.Fatalf("body is not a JSON object: %v", err)
			}

			got := make([]string, 0, len(fields))
			for k := range fields {
				got = append(got, k)
			}

			slices.Sort(got)
			want := slices.Sorted(slices.Values(tt.want))

			if !slices.Equal(got, want) {
				t.Fatalf("keys = %v, want %v", got, want)
			}

			var back webhook.Event
			if err := json.Unmarshal(body, &back); err != nil {
				t.Fatalf("round trip: %v", err)
			}

			if !back.OccurredAt.Equal(tt.event.OccurredAt) || back.ID != tt.event.ID {
				t.Fatalf("round trip changed the event")
			}
		})
	}
}

func TestEncodeGolden(t *testing.T) {
	t.Parallel()

	e := testEvent()
	e.OccurredAt = e.OccurredAt.In(time.FixedZone("UTC-5", -5*3600))

	body, err := webhook.Encode(e)
	if err != nil {
		t.Fatalf("Encode: %v", err)
	}

	golden(t, "event.json", body)
}

func TestNewEvent(t *testing.T) {
	t.Parallel()

	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.FixedZone("x", 7200))

	a, err := webhook.NewEvent(webhook.TypeSent, "m-1", "sent", at)
	if err != nil {
		t.Fatalf("NewEvent: %v", err)
	}

	b, err := webhook.NewEvent(webhook.TypeSent, "m-1", "sent", at)
	if err != nil {
		t.Fatalf("NewEvent: %v", err)
	}

	if a.ID == b.ID || len(a.ID) != 36 {
		t.Fatalf("ids %q and %q are not fresh UUIDs", a.ID, b.ID)
	}

	if a.OccurredAt.Location() != time.UTC || !a.OccurredAt.Equal(at) {
		t.Fatalf("OccurredAt = %v, want %v in UTC", a.OccurredAt, at)
	}

	if _, err := webhook.NewEvent("opened", "m-1", "sent", at); err == nil {
		t.Fatalf("NewEvent accepted an unknown type")
	}
}
