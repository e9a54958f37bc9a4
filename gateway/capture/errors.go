package capture

import "errors"

var (
	// ErrInvalidID means an id is not one this package issues; it is
	// refused before touching the filesystem.
	ErrInvalidID = errors.New("invalid message id")

	// ErrNotFound means no stored message has the id.
	ErrNotFound = errors.New("message not found")

	// ErrNotLoopback means ListenAndServe was asked to listen beyond
	// loopback.
	ErrNotLoopback = errors.New("capture server listens on loopback only")

	// ErrNoDir means no inbox directory was given and Discard is not set.
	ErrNoDir = errors.New("inbox directory required")
)
