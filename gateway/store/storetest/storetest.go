// Package storetest gives tests a freshly migrated database of their own: a
// SQLite file in a temporary directory, or a new PostgreSQL schema that is
// dropped when the test ends. Tests never share rows, so they run in
// parallel.
//
// PostgreSQL is found at SEALPOST_TEST_DATABASE_URL, by default the local
// server on 127.0.0.1:5432 with database "test". When it cannot be reached
// the PostgreSQL half of a test is skipped with a message, except under CI
// (CI=true), where it fails: CI must run against both databases.
package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/migrations"
)

// DefaultPostgresURL is used when SEALPOST_TEST_DATABASE_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// Dialects lists the databases every store test runs against.
var Dialects = []migrations.Dialect{migrations.SQLite, migrations.Postgres}

// Each runs fn as a parallel subtest per database, each with its own freshly
// migrated database.
func Each(t *testing.T, fn func(t *testing.T, db *store.DB)) {
	t.Helper()
	for _, d := range Dialects {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			fn(t, New(t, d))
		})
	}
}

// New returns a migrated database of dialect d, closed at cleanup.
func New(t testing.TB, d migrations.Dialect) *store.DB {
	t.Helper()
	ctx := context.Background()
	databaseURL, dataDir := Location(t, d)
	db, err := store.Open(ctx, databaseURL, dataDir)
	if err != nil {
		t.Fatalf("open %s: %v", d, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.MigrateUp(ctx); err != nil {
		t.Fatalf("migrate %s: %v", d, err)
	}
	return db
}

// Location returns where a new, empty database of dialect d lives: a
// PostgreSQL URL whose search_path names a fresh schema, or a temporary data
// directory for SQLite. The schema is dropped at cleanup.
func Location(t testing.TB, d migrations.Dialect) (databaseURL, dataDir string) {
	t.Helper()
	if d == migrations.SQLite {
		return "", t.TempDir()
	}
	return PostgresSchemaURL(t), ""
}

// PostgresURL returns the base URL of the test server, skipping or failing
// the test when the server cannot be reached.
func PostgresURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("SEALPOST_TEST_DATABASE_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	if err := reachable(base); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("PostgreSQL is required under CI but unreachable: %v", err)
		}
		t.Skipf("PostgreSQL unreachable, skipping (set SEALPOST_TEST_DATABASE_URL): %v", err)
	}
	return base
}

var (
	reachOnce sync.Once
	reachErr  error
)

func reachable(base string) error {
	reachOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			reachErr = err
			return
		}
		reachErr = conn.Close(ctx)
	})
	return reachErr
}

// PostgresSchemaURL creates a new schema and returns a URL that uses it.
func PostgresSchemaURL(t testing.TB) string {
	t.Helper()
	base := PostgresURL(t)
	ctx := context.Background()

	var b [6]byte
	_, _ = rand.Read(b[:])
	schema := "sealpost_test_" + hex.EncodeToString(b[:])

	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema: connect: %v", err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema: %v", err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parse test database URL: %v", err)
	}
	qs := u.Query()
	qs.Set("search_path", schema)
	u.RawQuery = qs.Encode()
	return u.String()
}

// DumpJobs returns every River job row's args and errors as text, for tests
// that prove job rows carry no content.
func DumpJobs(t testing.TB, db *store.DB) string {
	t.Helper()
	out, err := db.DumpJobsForTest(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return out
}
