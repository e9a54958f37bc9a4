package bounce

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"
)

const (
	// MaxJSONBytes caps one JSON event batch.
	MaxJSONBytes = 1 << 20
	// MaxJSONEvents caps the events in one batch.
	MaxJSONEvents = 1000
	// maxDiagnostic bounds the diagnostic text, which is checked for
	// length and then dropped.
	maxDiagnostic = 1000
	// maxJSONMessageID bounds the message id of a JSON event.
	maxJSONMessageID = 255
)

// JSONEvent is the provider-style event ParseJSONEvents reads. Diagnostic
// is accepted but never kept: it may echo the address or content.
type JSONEvent struct {
	Type       string    `json:"type"` // bounce or complaint
	MessageID  string    `json:"message_id"`
	Recipient  string    `json:"recipient"`
	Status     string    `json:"status"`
	Diagnostic string    `json:"diagnostic"`
	Timestamp  time.Time `json:"timestamp"`
}

// ParseJSONEvents reads one JSON event or an array of them. Validation is
// strict: unknown fields, trailing data, a missing timestamp or message
// id, a recipient that is not a plain ASCII address, a bounce without an
// enhanced status code (or with a 2.x.x one) and a complaint with one all
// fail the whole batch with ErrInvalidEvent. Errors name the event index
// and field, never a value.
func ParseJSONEvents(r io.Reader) ([]Report, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxJSONBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read events: %w", err)
	}
	if len(b) > MaxJSONBytes {
		return nil, ErrTooLarge
	}
	b = bytes.TrimSpace(b)

	var events []JSONEvent
	if len(b) > 0 && b[0] == '[' {
		err = decodeStrict(b, &events)
	} else {
		var one JSONEvent
		err = decodeStrict(b, &one)
		events = []JSONEvent{one}
	}
	if err != nil {
		return nil, err
	}
	if len(events) == 0 {
		return nil, fmt.Errorf("empty batch: %w", ErrInvalidEvent)
	}
	if len(events) > MaxJSONEvents {
		return nil, fmt.Errorf("more than %d events: %w", MaxJSONEvents, ErrInvalidEvent)
	}

	reports := make([]Report, 0, len(events))
	for i, e := range events {
		r, err := e.report()
		if err != nil {
			return nil, fmt.Errorf("event %d: %w", i, err)
		}
		reports = append(reports, r)
	}
	return reports, nil
}

// decodeStrict decodes exactly one JSON value without unknown fields. Its
// errors carry offsets and field names from our own types, never input.
func decodeStrict(b []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)

	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	var parseTime *time.ParseError
	switch {
	case err == nil:
	case errors.As(err, &syntax):
		return fmt.Errorf("json syntax at offset %d: %w", syntax.Offset, ErrInvalidEvent)
	case errors.As(err, &typ):
		return fmt.Errorf("field %s has the wrong type: %w", typ.Field, ErrInvalidEvent)
	case errors.As(err, &parseTime):
		return fmt.Errorf("timestamp not RFC 3339: %w", ErrInvalidEvent)
	default:
		// Unknown fields, EOF and the rest: the text may quote input.
		return fmt.Errorf("json not an event or event array: %w", ErrInvalidEvent)
	}
	if dec.More() {
		return fmt.Errorf("data after the json value: %w", ErrInvalidEvent)
	}
	if _, err := dec.Token(); err != io.EOF {
		return fmt.Errorf("data after the json value: %w", ErrInvalidEvent)
	}
	return nil
}

// report validates one event and maps it to a Report: a bounce with a
// 4.x.x status is a delay.
func (e JSONEvent) report() (Report, error) {
	if e.Timestamp.IsZero() {
		return Report{}, fmt.Errorf("timestamp missing: %w", ErrInvalidEvent)
	}
	if e.MessageID == "" || len(e.MessageID) > maxJSONMessageID ||
		!printableASCII(e.MessageID) {
		return Report{}, fmt.Errorf("message_id missing or not printable ascii: %w",
			ErrInvalidEvent)
	}
	rcpt := normaliseAddress(e.Recipient)
	if rcpt == "" {
		return Report{}, fmt.Errorf("recipient not an ascii address: %w", ErrInvalidEvent)
	}
	if len(e.Diagnostic) > maxDiagnostic {
		return Report{}, fmt.Errorf("diagnostic longer than %d bytes: %w", maxDiagnostic,
			ErrInvalidEvent)
	}

	r := Report{MessageID: e.MessageID, Recipient: rcpt}
	switch e.Type {
	case "bounce":
		r.Status = normaliseStatus(e.Status)
		if r.Status == "" || r.Status != e.Status || r.Status[0] == '2' {
			return Report{}, fmt.Errorf("status not a 4.x.x or 5.x.x code: %w",
				ErrInvalidEvent)
		}
		if r.Status[0] == '5' {
			r.Kind, r.Action = KindBounce, "failed"
			r.Hard, _ = Classify(r.Status)
		} else {
			r.Kind, r.Action = KindDelay, "delayed"
		}
	case "complaint":
		if e.Status != "" {
			return Report{}, fmt.Errorf("status set on a complaint: %w", ErrInvalidEvent)
		}
		r.Kind, r.FeedbackType = KindComplaint, "abuse"
	default:
		return Report{}, fmt.Errorf("type not bounce or complaint: %w", ErrInvalidEvent)
	}
	return r, nil
}
