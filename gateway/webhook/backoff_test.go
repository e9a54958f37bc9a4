package webhook_test

import (
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
)

func TestBackoff(t *testing.T) {
	t.Parallel()

	tests := []struct {
		attempt int
		base    time.Duration
	}{
		{-1, 10 * time.Second},
		{0, 10 * time.Second},
		{1, 10 * time.Second},
		{2, 20 * time.Second},
		{3, 40 * time.Second},
		{9, 2560 * time.Second},
		{10, time.Hour},
		{webhook.MaxAttempts, time.Hour},
		{64, time.Hour},
		{1 << 30, time.Hour},
	}

	for _, tt := range tests {
		t.Run(time.Duration(tt.attempt).String(), func(t *testing.T) {
			t.Parallel()

			seen := map[time.Duration]bool{}

			for range 200 {
				d := webhook.Backoff(tt.attempt)
				if d > tt.base || d < tt.base-tt.base/5 {
					t.Fatalf("Backoff(%d) = %v, want within a fifth below %v", tt.attempt, d,
						tt.base)
				}

				seen[d] = true
			}

			if len(seen) < 2 {
				t.Fatalf("Backoff(%d) has no jitter", tt.attempt)
			}
		})
	}
}

// TestBackoffSchedule pins how long an event keeps being retried.
func TestBackoffSchedule(t *testing.T) {
	t.Parallel()

	var total time.Duration
	for attempt := 1; attempt < webhook.MaxAttempts; attempt++ {
		total += webhook.Backoff(attempt)
	}

	// 10s+20s+…+2560s, then two hours at the cap: 3h25m10s, less jitter.
	const most = 12310 * time.Second
	if total > most || total < most-most/5 {
		t.Fatalf("retries span %v, want within a fifth below %v", total, most)
	}
}
