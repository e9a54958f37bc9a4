package audit

import (
	"context"
	"flag"
	"fmt"
	"regexp"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/migrations"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testEvent returns the i-th event of a test chain: identifiers only.
func testEvent(i int) Event {
	return Event{
		Actor:      fmt.Sprintf("key_%d", i%3),
		Action:     "template.saved",
		ObjectType: "template",
		ObjectID:   fmt.Sprintf("order-shipped-%d", i),
		RemoteAddr: "192.0.2.0",
		Details:    map[string]string{"version": fmt.Sprint(i), "n": "1"},
	}
}

// appendEvents appends n test events, one transaction each, numbered from
// first.
func appendEvents(t *testing.T, db *store.DB, first, n int) {
	t.Helper()
	for i := first; i < first+n; i++ {
		if err := AppendNow(context.Background(), db, testEvent(i)); err != nil {
			t.Fatalf("append event %d: %v", i, err)
		}
	}
}

var placeholderRE = regexp.MustCompile(`\$(\d+)`)

// rawExec runs SQL straight on the database, as someone tampering with it
// would, with PostgreSQL placeholders rewritten for SQLite.
func rawExec(t *testing.T, db *store.DB, query string, args ...any) {
	t.Helper()
	ctx := context.Background()
	var err error
	if db.Dialect() == migrations.Postgres {
		_, err = db.Pool().Exec(ctx, query, args...)
	} else {
		_, err = db.SQL().ExecContext(ctx, placeholderRE.ReplaceAllString(query, "?$1"), args...)
	}
	if err != nil {
		t.Fatalf("raw exec %q: %v", query, err)
	}
}

// events reads the whole stored chain.
func events(t *testing.T, db *store.DB) []store.AuditEvent {
	t.Helper()
	out, err := db.ListAuditEvents(context.Background(), 0, 10_000)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func verifyOK(t *testing.T, db *store.DB, wantEvents int) *Report {
	t.Helper()
	rep, err := Verify(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	if !rep.OK || rep.Events != wantEvents || rep.HeadSeq != int64(wantEvents) {
		t.Fatalf("Verify = %+v, want OK with %d events", rep, wantEvents)
	}
	return rep
}

var fixedTime = time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC)
