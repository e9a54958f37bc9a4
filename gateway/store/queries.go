package store

import (
	"embed"
	"fmt"
	"io/fs"
	"regexp"
	"strings"

	"github.com/sealpost/sealpost/migrations"
)

//go:embed queries/*.sql
var queryFiles embed.FS

// queryText maps a statement name to its SQL per dialect.
type queryText map[string]string

var (
	pgQueries     = mustLoadQueries(migrations.Postgres)
	sqliteQueries = mustLoadQueries(migrations.SQLite)
)

var placeholderRE = regexp.MustCompile(`\$(\d+)`)

// mustLoadQueries parses the embedded .sql files. The files are part of the
// binary, so a malformed one is a programming error caught by any test.
func mustLoadQueries(d migrations.Dialect) queryText {
	q, err := loadQueries(d)
	if err != nil {
		panic(err)
	}
	return q
}

func loadQueries(d migrations.Dialect) (queryText, error) {
	out := queryText{}
	err := fs.WalkDir(queryFiles, "queries", func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return err
		}
		body, err := fs.ReadFile(queryFiles, p)
		if err != nil {
			return err
		}
		return parseQueries(string(body), d, out)
	})
	return out, err
}

func parseQueries(src string, d migrations.Dialect, out queryText) error {
	var name string
	var b strings.Builder
	flush := func() error {
		if name == "" {
			return nil
		}
		q := strings.TrimSpace(b.String())
		if d == migrations.SQLite {
			q = placeholderRE.ReplaceAllString(q, "?$1")
		}
		if _, dup := out[name]; dup {
			return fmt.Errorf("query %s defined twice", name)
		}
		out[name] = q
		b.Reset()
		return nil
	}
	for line := range strings.SplitSeq(src, "\n") {
		if n, ok := strings.CutPrefix(line, "-- name: "); ok {
			if err := flush(); err != nil {
				return err
			}
			name = strings.TrimSpace(n)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(line), "--") {
			continue
		}
		b.WriteString(line)
		b.WriteByte('\n')
	}
	return flush()
}
