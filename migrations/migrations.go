// Package migrations holds Sealpost's SQL migrations for PostgreSQL and SQLite,
// embedded in the binary, and applies them together with River's own
// migrations.
//
// Each migration is a numbered pair of files, NNNN_name.up.sql and
// NNNN_name.down.sql, in a directory per database. Applied versions are
// recorded in the sealpost_migration table. This package does not know the
// tables' meaning; the store package does.
package migrations

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Migration is one numbered schema change with its way back.
type Migration struct {
	Version int
	Name    string
	Up      string
	Down    string
}

// Dialect names a database family with its own migration directory.
type Dialect string

// The dialects Sealpost runs on.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// All returns the migrations for d in ascending version order.
func All(d Dialect) ([]Migration, error) {
	entries, err := fs.ReadDir(files, string(d))
	if err != nil {
		return nil, fmt.Errorf("read migrations: %w", err)
	}

	byVersion := map[int]*Migration{}
	for _, e := range entries {
		name := e.Name()
		base, dir, ok := cutDirection(name)
		if !ok {
			return nil, fmt.Errorf("migration file %s: name must end in .up.sql or .down.sql", name)
		}
		num, label, ok := strings.Cut(base, "_")
		if !ok {
			return nil, fmt.Errorf("migration file %s: name must start with a number and _", name)
		}
		version, err := strconv.Atoi(num)
		if err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %s: bad version number", name)
		}
		body, err := fs.ReadFile(files, path.Join(string(d), name))
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", name, err)
		}

		m := byVersion[version]
		if m == nil {
			m = &Migration{Version: version, Name: label}
			byVersion[version] = m
		}
		if dir == "up" {
			m.Up = string(body)
		} else {
			m.Down = string(body)
		}
	}

	out := make([]Migration, 0, len(byVersion))
	for _, m := range byVersion {
		if m.Up == "" || m.Down == "" {
			return nil, fmt.Errorf(
				"migration %04d_%s: needs both an up and a down file",
				m.Version,
				m.Name,
			)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Version < out[j].Version })
	return out, nil
}

func cutDirection(name string) (base, dir string, ok bool) {
	if b, found := strings.CutSuffix(name, ".up.sql"); found {
		return b, "up", true
	}
	if b, found := strings.CutSuffix(name, ".down.sql"); found {
		return b, "down", true
	}
	return "", "", false
}
