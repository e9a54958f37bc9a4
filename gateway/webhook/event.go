package webhook

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/google/uuid"
)

// Event types, one per delivery outcome the commerce backend hears about.
const (
	TypeSent         = "sent"
	TypeDeferred     = "deferred"
	TypeFailed       = "failed"
	TypeBounced      = "bounced"
	TypeComplained   = "complained"
	TypeSuppressed   = "suppressed"
	TypeUnsubscribed = "unsubscribed"
)

// Limits on event fields. They keep a payload small and leave no room for a
// value to hide in an identifier or a reason.
const (
	// MaxIDLength bounds an event id and a message id (a UUID is 36).
	MaxIDLength = 64

	// MaxReasonLength bounds the reason token.
	MaxReasonLength = 128
)

var eventTypes = map[string]bool{
	TypeSent: true, TypeDeferred: true, TypeFailed: true, TypeBounced: true,
	TypeComplained: true, TypeSuppressed: true, TypeUnsubscribed: true,
}

// messageStatuses is the message lifecycle; an event reports the status the
// message has once the event happened.
var messageStatuses = map[string]bool{
	"queued": true, "sending": true, "sent": true, "deferred": true,
	"failed": true, "suppressed": true, "rejected": true,
}

// Event is the webhook payload. Its fields are the whole schema: nothing
// else is ever sent.
type Event struct {
	// ID is unique per event and stable across retries, for receiver
	// de-duplication.
	ID string `json:"id"`

	// Type is one of the Type constants.
	Type string `json:"type"`

	// MessageID identifies the message the event is about.
	MessageID string `json:"message_id"`

	// Status is the message's lifecycle status after the event.
	Status string `json:"status"`

	// ReplyCode is the SMTP reply code (RFC 5321 §4.2), when there was one.
	ReplyCode int `json:"reply_code,omitempty"`

	// EnhancedCode is the enhanced status code (RFC 3463 §2), such as
	// "5.1.1", when there was one.
	EnhancedCode string `json:"enhanced_code,omitempty"`

	// Reason is a value-free lower-case token such as "mailbox_full" or
	// "certificate not trusted".
	Reason string `json:"reason,omitempty"`

	// OccurredAt is when the event happened; it is sent in UTC.
	OccurredAt time.Time `json:"occurred_at"`
}

// NewEvent returns an event with a fresh time-ordered id (a UUIDv7). Create
// it once, when the event is queued, so retries reuse the id.
func NewEvent(typ, messageID, status string, occurredAt time.Time) (Event, error) {
	id, err := uuid.NewV7()
	if err != nil {
		return Event{}, fmt.Errorf("new event id: %w", err)
	}

	e := Event{
		ID:         id.String(),
		Type:       typ,
		MessageID:  messageID,
		Status:     status,
		OccurredAt: occurredAt.UTC(),
	}

	return e, e.Validate()
}

// Validate checks that the event is well formed and carries nothing but
// identifiers, codes and tokens. Errors are [*InvalidEventError]s that name
// the field without repeating its value.
func (e Event) Validate() error {
	if err := checkID("id", e.ID); err != nil {
		return err
	}

	if !eventTypes[e.Type] {
		return invalidEvent("type", "unknown event type")
	}

	if err := checkID("message_id", e.MessageID); err != nil {
		return err
	}

	if !messageStatuses[e.Status] {
		return invalidEvent("status", "unknown message status")
	}

	if e.ReplyCode != 0 && (e.ReplyCode < 200 || e.ReplyCode > 599) {
		return invalidEvent("reply_code", "not an smtp reply code")
	}

	if e.EnhancedCode != "" && !isEnhancedCode(e.EnhancedCode) {
		return invalidEvent("enhanced_code", "not an enhanced status code")
	}

	if err := checkReason(e.Reason); err != nil {
		return err
	}

	if e.OccurredAt.IsZero() {
		return invalidEvent("occurred_at", "missing")
	}

	// encoding/json refuses years outside four digits (RFC 3339 §5.6).
	if y := e.OccurredAt.UTC().Year(); y < 1 || y > 9999 {
		return invalidEvent("occurred_at", "year out of range")
	}

	return nil
}

// Encode validates the event and returns the request body: compact JSON with
// the fields in schema order and OccurredAt in UTC.
func Encode(e Event) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}

	e.OccurredAt = e.OccurredAt.UTC()

	body, err := json.Marshal(e)
	if err != nil {
		return nil, fmt.Errorf("encode event: %w", err)
	}

	return body, nil
}

// LogValue implements slog.LogValuer. Every field is PHI-free; the log keeps
// the ones an operator correlates on.
func (e Event) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", e.ID),
		slog.String("type", e.Type),
		slog.String("message_id", e.MessageID),
		slog.String("status", e.Status),
	)
}

// checkID accepts 1 to MaxIDLength characters of ASCII letters, digits,
// '-' and '_': enough for UUIDs and prefixed ids, too little for an address.
func checkID(field, id string) error {
	if id == "" {
		return invalidEvent(field, "missing")
	}

	if len(id) > MaxIDLength {
		return invalidEvent(field, "too long")
	}

	for i := 0; i < len(id); i++ {
		c := id[i]
		if !isAlnum(c) && c != '-' && c != '_' {
			return invalidEvent(field, "character not allowed in an id")
		}
	}

	return nil
}

// checkReason accepts lower-case ASCII letters, digits, space, '_', '-', '.'
// and ':'. An '@', a slash, '=', '%', '+' or upper-case letters would make
// room for an address, a URL, a query value or a name.
func checkReason(reason string) error {
	if len(reason) > MaxReasonLength {
		return invalidEvent("reason", "too long")
	}

	for i := 0; i < len(reason); i++ {
		c := reason[i]
		ok := c >= 'a' && c <= 'z' || c >= '0' && c <= '9' ||
			c == ' ' || c == '_' || c == '-' || c == '.' || c == ':'
		if !ok {
			return invalidEvent("reason", "character not allowed in a reason")
		}
	}

	return nil
}

// isEnhancedCode matches class "." subject "." detail (RFC 3463 §2): class 2,
// 4 or 5, subject and detail of one to three digits.
func isEnhancedCode(s string) bool {
	if len(s) < 5 || (s[0] != '2' && s[0] != '4' && s[0] != '5') || s[1] != '.' {
		return false
	}

	subject, detail, ok := strings.Cut(s[2:], ".")

	return ok && isDigits(subject, 3) && isDigits(detail, 3)
}

func isDigits(s string, maxLen int) bool {
	if s == "" || len(s) > maxLen {
		return false
	}

	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return true
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}
