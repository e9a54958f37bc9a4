package store

import (
	"context"
	"fmt"
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

// DumpAllForTest returns every row of every table in the database as text:
// the test-side equivalent of a database dump, for proving that a canary
// appears nowhere in clear.
func (db *DB) DumpAllForTest(ctx context.Context) (string, error) {
	var tables []string
	listSQL := "SELECT name FROM sqlite_master WHERE type = 'table'"
	if db.pool != nil {
		listSQL = "SELECT table_name FROM information_schema.tables " +
			"WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
	}
	rs, err := db.ex.query(ctx, listSQL)
	if err != nil {
		return "", err
	}
	for rs.Next() {
		var name string
		if err := rs.Scan(&name); err != nil {
			rs.Close()
			return "", err
		}
		tables = append(tables, name)
	}
	rs.Close()

	var b strings.Builder
	for _, table := range tables {
		b.WriteString("== " + table + "\n")
		if db.pool != nil {
			rows, err := db.pool.Query(ctx, "SELECT t::text FROM "+quoteIdent(table)+" t")
			if err != nil {
				return "", err
			}
			for rows.Next() {
				var line string
				if err := rows.Scan(&line); err != nil {
					rows.Close()
					return "", err
				}
				b.WriteString(line + "\n")
			}
			rows.Close()
			continue
		}
		rows, err := db.sqlDB.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table))
		if err != nil {
			return "", err
		}
		cols, _ := rows.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				rows.Close()
				return "", err
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					b.Write(x)
				default:
					fmt.Fprint(&b, x)
				}
				b.WriteByte('|')
			}
			b.WriteByte('\n')
		}
		rows.Close()
	}
	return b.String(), nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ExecForTest runs a statement outside the store's own queries, for tests
// that tamper with rows on purpose.
func (db *DB) ExecForTest(ctx context.Context, query string) error {
	_, err := db.ex.exec(ctx, query)
	return err
}
