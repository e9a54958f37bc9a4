package mime

import "errors"

var (
	// ErrHeaderInjection is matched by errors for a CR, LF or NUL in a
	// header field (subject, display name, extra header), or for ASCII text
	// that a reader would decode as an RFC 2047 encoded word holding one.
	// Such input is always refused, never stripped.
	ErrHeaderInjection = errors.New("line break or NUL in header field")

	// ErrInvalidField is matched by errors for any other unacceptable field:
	// a missing or malformed value, a control character, a reserved header
	// name, or a value that cannot be folded within RFC 5322 line limits.
	ErrInvalidField = errors.New("invalid message field")
)

// FieldError reports which field of a [Message] was refused and why. Field
// names the field ("subject", "to[1]", "headers[0].value"); Reason is a short
// lower-case phrase. Neither ever contains the field's value.
type FieldError struct {
	Field  string
	Reason string

	kind  error // ErrHeaderInjection or ErrInvalidField
	cause error // optional, such as an *address.InvalidError
}

// Error implements error.
func (e *FieldError) Error() string {
	return "mime: " + e.Field + ": " + e.Reason
}

// Unwrap returns the sentinel error and, when there is one, the cause.
func (e *FieldError) Unwrap() []error {
	if e.cause == nil {
		return []error{e.kind}
	}

	return []error{e.kind, e.cause}
}

func injection(field string) error {
	return &FieldError{
		Field:  field,
		Reason: "contains a line break or NUL",
		kind:   ErrHeaderInjection,
	}
}

func invalidField(field, reason string) error {
	return &FieldError{Field: field, Reason: reason, kind: ErrInvalidField}
}

func encodedInjection(field string) error {
	return &FieldError{
		Field:  field,
		Reason: "has an encoded word that decodes to a control character",
		kind:   ErrHeaderInjection,
	}
}
