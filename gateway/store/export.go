package store

import (
	"context"
	"fmt"
	"time"
)

// ExportFilter selects rows for a compliance export: one address (already
// normalised) or all, created in [Since, Until).
type ExportFilter struct {
	Address string
	Since   time.Time
	Until   time.Time
}

func (f ExportFilter) bounds() (time.Time, time.Time) {
	since, until := f.Since, f.Until
	if since.IsZero() {
		since = time.Unix(0, 0)
	}
	if until.IsZero() {
		until = time.Now().Add(24 * time.Hour)
	}
	return since.UTC(), until.UTC()
}

// EachConsentEvent calls fn for every consent event the filter selects,
// oldest first, reading in pages so an export of any size streams.
func (q queries) EachConsentEvent(
	ctx context.Context,
	f ExportFilter,
	fn func(*ConsentEvent) error,
) error {
	since, until := f.bounds()
	after, afterID := since.Add(-time.Microsecond), ""
	for {
		rs, err := q.ex.query(
			ctx,
			q.sql("ExportConsentEvents"),
			f.Address,
			since,
			until,
			after,
			afterID,
		)
		if err != nil {
			return fmt.Errorf("export consent events: %w", err)
		}
		n := 0
		for rs.Next() {
			e, err := scanConsent(rs)
			if err != nil {
				rs.Close()
				return err
			}
			n++
			after, afterID = e.CreatedAt, e.ID
			if err := fn(e); err != nil {
				rs.Close()
				return err
			}
		}
		err = rs.Err()
		rs.Close()
		if err != nil || n < 500 {
			return err
		}
	}
}

// EachSuppression calls fn for every suppression the filter selects,
// removed ones included, oldest first.
func (q queries) EachSuppression(
	ctx context.Context,
	f ExportFilter,
	fn func(*Suppression) error,
) error {
	since, until := f.bounds()
	after, afterID := since.Add(-time.Microsecond), ""
	for {
		list, err := q.suppressions(
			ctx,
			"ExportSuppressions",
			f.Address,
			since,
			until,
			after,
			afterID,
		)
		if err != nil {
			return err
		}
		for i := range list {
			after, afterID = list[i].CreatedAt, list[i].ID
			if err := fn(&list[i]); err != nil {
				return err
			}
		}
		if len(list) < 500 {
			return nil
		}
	}
}
