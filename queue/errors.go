package queue

import "errors"

var (
	// ErrIdempotencyMismatch means an idempotency key was reused with a
	// different request.
	ErrIdempotencyMismatch = errors.New("idempotency key reused with a different request")

	// errJobNotRunning means a job was no longer running when its attempt
	// was recorded.
	errJobNotRunning = errors.New("job no longer running")
)
