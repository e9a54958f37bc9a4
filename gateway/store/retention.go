package store

import (
	"context"
	"fmt"
	"time"
)

// Retention is how long each kind of record is kept.
type Retention struct {
	Messages time.Duration // message metadata
	Records  time.Duration // consent history, removed suppressions, portal events
}

// PurgeRetained deletes what is older than its window and returns how many
// rows went, by kind.
func (q queries) PurgeRetained(
	ctx context.Context,
	r Retention,
	now time.Time,
) (map[string]int64, error) {
	out := map[string]int64{}
	for _, step := range []struct {
		kind, query string
		window      time.Duration
	}{
		{"messages", "PurgeMessages", r.Messages},
		{"consent events", "PurgeConsentEvents", r.Records},
		{"removed suppressions", "PurgeRemovedSuppressions", r.Records},
		{"portal events", "PurgePortalEvents", r.Records},
	} {
		if step.window <= 0 {
			continue
		}
		n, err := q.ex.exec(ctx, q.sql(step.query), now.Add(-step.window).UTC())
		if err != nil {
			return out, fmt.Errorf("purge %s: %w", step.kind, err)
		}
		out[step.kind] = n
	}
	return out, nil
}

// KindAge is one line of `sealpost retention status`.
type KindAge struct {
	Kind   string
	Policy string
	Rows   int64
	Oldest *time.Time // nil when there are no rows
}

// RetentionStatus reports, per kind of data, its policy and its oldest row.
func (db *DB) RetentionStatus(ctx context.Context, r Retention) ([]KindAge, error) {
	kinds := []struct{ kind, policy, table, column, where string }{
		{"message metadata", fmt.Sprintf("deleted %s after acceptance", r.Messages),
			"sealpost_message", "created_at", ""},
		{"sensitive payloads", "deleted at link expiry (72 h by default)",
			"sealpost_payload", "expires_at", ""},
		{"portal links", "deleted at expiry", "sealpost_portal_link", "expires_at", ""},
		{"portal sessions", "deleted after 15 min idle or 1 h", "sealpost_portal_session",
			"last_seen_at", ""},
		{"portal events", fmt.Sprintf("deleted %s after the event", r.Records),
			"sealpost_portal_event", "created_at", ""},
		{"consent history", fmt.Sprintf("deleted %s after the event", r.Records),
			"sealpost_consent_event", "created_at", ""},
		{"suppressions (removed)", fmt.Sprintf("deleted %s after removal", r.Records),
			"sealpost_suppression", "removed_at", "removed_at IS NOT NULL"},
		{"suppressions (active)", "kept while active", "sealpost_suppression", "created_at",
			"removed_at IS NULL"},
		{"finished queue jobs", "deleted 24 h after they finish (River)", "river_job",
			"finalized_at", "finalized_at IS NOT NULL"},
	}
	var out []KindAge
	for _, k := range kinds {
		query := "SELECT COUNT(*), MIN(" + k.column + ") FROM " + k.table
		if k.where != "" {
			query += " WHERE " + k.where
		}
		var n int64
		var oldest any
		if err := db.ex.queryRow(ctx, query).Scan(&n, &oldest); err != nil {
			return nil, fmt.Errorf("retention status of %s: %w", k.kind, err)
		}
		ka := KindAge{Kind: k.kind, Policy: k.policy, Rows: n}
		if t := asTime(oldest); !t.IsZero() {
			ka.Oldest = &t
		}
		out = append(out, ka)
	}
	return out, nil
}
