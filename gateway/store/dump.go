package store

import (
	"context"
	"strings"
)

// DumpJobsForTest returns the args, errors and metadata of every River job
// as text. Tests use it to prove that job rows hold no content.
func (db *DB) DumpJobsForTest(ctx context.Context) (string, error) {
	rs, err := db.ex.query(ctx,
		"SELECT CAST(args AS text), CAST(errors AS text), CAST(metadata AS text) FROM river_job")
	if err != nil {
		return "", err
	}
	defer rs.Close()
	var b strings.Builder
	for rs.Next() {
		var args, errs, meta *string
		if err := rs.Scan(&args, &errs, &meta); err != nil {
			return "", err
		}
		for _, s := range []*string{args, errs, meta} {
			if s != nil {
				b.WriteString(*s)
				b.WriteByte('\n')
			}
		}
	}
	return b.String(), rs.Err()
}
