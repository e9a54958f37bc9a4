package webhook

import (
	"math/rand/v2"
	"time"
)

// Retry schedule for the queue job that calls Send.
const (
	// MaxAttempts is how many times an event is tried before it is given
	// up: with Backoff the eleven waits add up to at most 3h25m.
	MaxAttempts = 12

	// BackoffBase is the wait after the first failed attempt.
	BackoffBase = 10 * time.Second

	// BackoffMax caps the wait between attempts.
	BackoffMax = time.Hour

	// backoffJitter is the share of a wait that is randomised, so that
	// events failing together do not retry together.
	backoffJitter = 5 // one fifth
)

// Backoff returns how long to wait after the attempt-th failed attempt
// (counting from 1): BackoffBase doubling each time up to BackoffMax, less a
// random fifth. Attempts below 1 count as 1.
func Backoff(attempt int) time.Duration {
	attempt = max(attempt, 1)

	// Past 20 doublings the cap applies anyway, and the shift could overflow.
	d := BackoffMax
	if attempt < 20 {
		d = min(BackoffBase<<(attempt-1), BackoffMax)
	}

	return d - rand.N(d/backoffJitter+1)
}
