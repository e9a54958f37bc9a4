package store

import (
	"context"
	"fmt"
	"time"
)

// AnnounceReplica records this process's periodic job set and returns the
// differing sets that other replicas seen since staleAfter announce.
func (db *DB) AnnounceReplica(ctx context.Context, id, periodic string, now time.Time,
	staleAfter time.Duration,
) ([]string, error) {
	if _, err := db.ex.exec(ctx, db.sql("UpsertReplica"), id, periodic, now.UTC()); err != nil {
		return nil, fmt.Errorf("announce replica: %w", err)
	}
	rs, err := db.ex.query(ctx, db.sql("OtherReplicaPeriodic"), id, now.Add(-staleAfter).UTC())
	if err != nil {
		return nil, fmt.Errorf("list replicas: %w", err)
	}
	defer rs.Close()
	var differing []string
	for rs.Next() {
		var p string
		if err := rs.Scan(&p); err != nil {
			return nil, err
		}
		if p != periodic {
			differing = append(differing, p)
		}
	}
	return differing, rs.Err()
}

// RetireReplica removes this process's announcement and stale ones.
func (db *DB) RetireReplica(ctx context.Context, id string, staleBefore time.Time) error {
	if _, err := db.ex.exec(ctx, db.sql("DeleteReplica"), id, staleBefore.UTC()); err != nil {
		return fmt.Errorf("retire replica: %w", err)
	}
	return nil
}
