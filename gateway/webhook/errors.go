package webhook

import (
	"errors"
	"fmt"
	"strconv"
)

// Sentinel errors. Each says what went wrong without echoing any value, so it
// is safe to log and to store as a job error.
var (
	// ErrInvalidEvent is matched by every error from [Event.Validate].
	ErrInvalidEvent = errors.New("invalid webhook event")

	// ErrInvalidSecret means a webhook secret is missing, badly encoded or
	// too short.
	ErrInvalidSecret = errors.New("invalid webhook secret")

	// ErrInvalidURL means the endpoint URL given to [NewSender] is unusable.
	ErrInvalidURL = errors.New("invalid webhook url")

	// ErrInvalidSignature is matched by every error from [Verify].
	ErrInvalidSignature = errors.New("invalid webhook signature")

	// ErrMalformedSignature means the signature header is not in the form
	// "t=<unix>,v1=<hex>[,v1=<hex>]".
	ErrMalformedSignature = fmt.Errorf("%w: malformed header", ErrInvalidSignature)

	// ErrStaleSignature means the signature's timestamp is further from the
	// receiver's clock than the tolerance allows.
	ErrStaleSignature = fmt.Errorf("%w: timestamp outside tolerance", ErrInvalidSignature)

	// ErrSignatureMismatch means no v1 value matches the secret and body.
	ErrSignatureMismatch = fmt.Errorf("%w: no matching signature", ErrInvalidSignature)

	// ErrRejected is wrapped by a [*PermanentError] for a 4xx answer.
	ErrRejected = errors.New("webhook rejected by receiver")

	// ErrUnexpectedStatus means the receiver answered with a status that is
	// worth retrying: 1xx, 3xx (redirects are never followed), 408, 429 or
	// 5xx.
	ErrUnexpectedStatus = errors.New("webhook receiver answered with a retryable status")

	// ErrTimeout means the attempt did not complete within its timeout.
	ErrTimeout = errors.New("webhook attempt timed out")

	// ErrConnection means the request could not be sent or its answer could
	// not be read.
	ErrConnection = errors.New("webhook connection failed")
)

// InvalidEventError reports which field of an [Event] was refused and why.
// Neither Field nor Reason ever contains the field's value.
type InvalidEventError struct {
	Field  string // JSON name of the field
	Reason string // short lower-case phrase
}

// Error implements error.
func (e *InvalidEventError) Error() string {
	return "invalid webhook event: " + e.Field + ": " + e.Reason
}

// Unwrap makes the error match [ErrInvalidEvent].
func (e *InvalidEventError) Unwrap() error {
	return ErrInvalidEvent
}

func invalidEvent(field, reason string) error {
	return &InvalidEventError{Field: field, Reason: reason}
}

// PermanentError means retrying the event cannot help: the receiver answered
// 4xx (other than 408 and 429), or the event itself is invalid. The queue
// stops retrying when it sees this type; every other error from
// [Sender.Send] is temporary.
type PermanentError struct {
	// StatusCode is the HTTP status the receiver answered, or 0 when the
	// event was refused before any request was made.
	StatusCode int

	// Err is the cause: [ErrRejected] for a status, otherwise the
	// validation or encoding error.
	Err error
}

// Error implements error. It never contains the response body.
func (e *PermanentError) Error() string {
	if e.StatusCode != 0 {
		return "webhook rejected by receiver: status " + strconv.Itoa(e.StatusCode)
	}

	return "webhook not sent: " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *PermanentError) Unwrap() error {
	return e.Err
}

// IsPermanent reports whether err (or an error it wraps) is a
// [*PermanentError], meaning the event must not be retried.
func IsPermanent(err error) bool {
	var perm *PermanentError
	return errors.As(err, &perm)
}
