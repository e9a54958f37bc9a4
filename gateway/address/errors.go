package address

import "errors"

// ErrInvalid is matched (with [errors.Is]) by every error this package
// returns for an unacceptable address or display name.
var ErrInvalid = errors.New("invalid address")

// InvalidError reports why an address or display name was rejected. Reason is
// a short, stable, lower-case phrase that never contains any part of the
// input.
type InvalidError struct {
	Reason string
}

// Error implements error.
func (e *InvalidError) Error() string {
	return "invalid address: " + e.Reason
}

// Unwrap makes the error match [ErrInvalid].
func (e *InvalidError) Unwrap() error {
	return ErrInvalid
}

func invalid(reason string) error {
	return &InvalidError{Reason: reason}
}
