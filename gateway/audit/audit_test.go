package audit

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
)

func TestAppendSequentialAndConcurrent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		verifyOK(t, db, 0)
		appendEvents(t, db, 0, 20)

		const workers, each = 8, 10
		var wg sync.WaitGroup
		errs := make(chan error, workers*each)
		for w := range workers {
			wg.Go(func() {
				for i := range each {
					errs <- AppendNow(ctx, db, testEvent(1000+w*each+i))
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent append: %v", err)
			}
		}

		rep := verifyOK(t, db, 20+workers*each)
		all := events(t, db)
		for i, e := range all {
			if e.Seq != int64(i+1) {
				t.Fatalf("event %d has seq %d; seqs must run 1, 2, 3, … without gaps", i, e.Seq)
			}
		}
		if !bytes.Equal(rep.Head, all[len(all)-1].Hash) {
			t.Error("report head is not the last event's hash")
		}
	})
}

func TestAppendCommitsWithCallersTransaction(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		errAbort := errors.New("abort")
		err := db.InTx(ctx, func(tx *store.Tx) error {
			if err := Append(ctx, tx, testEvent(1)); err != nil {
				return err
			}
			return errAbort
		})
		if !errors.Is(err, errAbort) {
			t.Fatalf("InTx = %v, want the abort error", err)
		}
		verifyOK(t, db, 0)

		err = db.InTx(ctx, func(tx *store.Tx) error {
			for i := range 3 {
				if err := Append(ctx, tx, testEvent(i)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		verifyOK(t, db, 3)
	})
}

func TestAppendStoresEventAsGiven(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		e := testEvent(7)
		e.At = fixedTime
		if err := AppendNow(context.Background(), db, e); err != nil {
			t.Fatal(err)
		}
		got := events(t, db)[0]
		if !got.At.Equal(fixedTime.Truncate(time.Microsecond)) {
			t.Errorf("at = %v, want %v to the microsecond", got.At, fixedTime)
		}
		if got.Actor != e.Actor || got.ObjectID != e.ObjectID ||
			got.Details != `{"n":"1","version":"7"}` {
			t.Errorf("stored event = %+v", got)
		}
		if !bytes.Equal(got.PrevHash, make([]byte, hashSize)) {
			t.Error("seq 1 must link to 32 zero bytes")
		}
	})
}

func TestAppendRejectsInvalidEvent(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("x", MaxFieldBytes+1)
	big := map[string]string{"ids": strings.Repeat("y", MaxDetailsBytes)}
	cases := []struct {
		name string
		e    Event
	}{
		{"no actor", Event{Action: "key.created"}},
		{"no action", Event{Actor: "system"}},
		{"long object id", Event{Actor: "system", Action: "key.created", ObjectID: long}},
		{"long remote address", Event{Actor: "system", Action: "auth.failed", RemoteAddr: long}},
		{"large details", Event{Actor: "system", Action: "retention.run", Details: big}},
	}
	db := storetest.New(t, migrations.SQLite)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := AppendNow(context.Background(), db, tc.e)
			if !errors.Is(err, ErrInvalidEvent) {
				t.Fatalf("AppendNow = %v, want ErrInvalidEvent", err)
			}
			if strings.Contains(err.Error(), "xxxx") || strings.Contains(err.Error(), "yyyy") {
				t.Error("error echoes the value")
			}
		})
	}
	t.Cleanup(func() {
		if n := len(events(t, db)); n != 0 {
			t.Errorf("%d events stored from invalid input", n)
		}
	})
}

func TestWriteHeadAndReadHead(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		path := filepath.Join(t.TempDir(), "audit-head.json")

		if err := WriteHead(ctx, db, path); err != nil {
			t.Fatal(err)
		}
		empty, err := ReadHead(path)
		if err != nil {
			t.Fatal(err)
		}
		if empty.Seq != 0 || !bytes.Equal(empty.Hash, make([]byte, hashSize)) {
			t.Errorf("head of the empty chain = %+v", empty)
		}
		if rep, err := VerifyAgainst(ctx, db, empty); err != nil || !rep.OK {
			t.Fatalf("VerifyAgainst empty head = %+v, %v", rep, err)
		}

		appendEvents(t, db, 0, 5)
		if err := WriteHead(ctx, db, path); err != nil {
			t.Fatal(err)
		}
		head, err := ReadHead(path)
		if err != nil {
			t.Fatal(err)
		}
		rep := verifyOK(t, db, 5)
		if head.Seq != 5 || !bytes.Equal(head.Hash, rep.Head) || head.WrittenAt.IsZero() {
			t.Errorf("head = %+v, want seq 5 and hash %x", head, rep.Head)
		}
		info, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		if info.Mode().Perm() != headFileMode {
			t.Errorf("head file mode = %v", info.Mode().Perm())
		}
		leftovers, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".*"))
		if len(leftovers) != 0 {
			t.Errorf("temporary files left behind: %v", leftovers)
		}

		// A broken chain gets no head, and the old one stays.
		rawExec(t, db, "UPDATE sealpost_audit_event SET actor = 'someone' WHERE seq = 2")
		if err := WriteHead(ctx, db, path); !errors.Is(err, ErrChainBroken) {
			t.Fatalf("WriteHead on a broken chain = %v, want ErrChainBroken", err)
		}
		again, err := ReadHead(path)
		if err != nil || again.Seq != 5 || !bytes.Equal(again.Hash, head.Hash) {
			t.Errorf("head file changed after a refused write: %+v, %v", again, err)
		}
	})
}

func TestReadHeadRejectsMalformedFile(t *testing.T) {
	t.Parallel()
	zeros := strings.Repeat("00", hashSize)
	cases := map[string]string{
		"not json":       "seq=4",
		"short hash":     `{"seq":4,"hash":"abcd","written_at":"2025-01-01T00:00:00Z"}`,
		"negative seq":   `{"seq":-1,"hash":"` + zeros + `","written_at":"2025-01-01T00:00:00Z"}`,
		"bad written at": `{"seq":1,"hash":"` + zeros + `","written_at":"soon"}`,
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "head.json")
			if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := ReadHead(path); !errors.Is(err, ErrBadHeadFile) {
				t.Fatalf("ReadHead = %v, want ErrBadHeadFile", err)
			}
		})
	}
}

func TestChainHashGolden(t *testing.T) {
	t.Parallel()
	e := &store.AuditEvent{
		Seq: 42, ID: "01950f3e-7b1a-7c00-8000-000000000001", At: fixedTime,
		Actor: "key_live_7f3a", Action: "key.revoked", ObjectType: "api_key",
		ObjectID: "key_live_9c2e", RemoteAddr: "203.0.113.0",
		Details: `{"reason":"rotated"}`, PrevHash: bytes.Repeat([]byte{0xab}, hashSize),
	}
	got := hex.EncodeToString(chainHash(e)) + "\n"
	golden := filepath.Join("testdata", "chain_hash.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("chain hash = %s, golden %s; the canonical encoding changed", got, want)
	}
}

func TestChainHashCoversEveryField(t *testing.T) {
	t.Parallel()
	base := store.AuditEvent{
		Seq: 3, ID: "id", At: fixedTime, Actor: "a", Action: "b", ObjectType: "c",
		ObjectID: "d", RemoteAddr: "e", Details: "{}", PrevHash: make([]byte, hashSize),
	}
	edits := map[string]func(e *store.AuditEvent){
		"seq":         func(e *store.AuditEvent) { e.Seq++ },
		"id":          func(e *store.AuditEvent) { e.ID += "x" },
		"at":          func(e *store.AuditEvent) { e.At = e.At.Add(time.Microsecond) },
		"actor":       func(e *store.AuditEvent) { e.Actor += "x" },
		"action":      func(e *store.AuditEvent) { e.Action += "x" },
		"object type": func(e *store.AuditEvent) { e.ObjectType += "x" },
		"object id":   func(e *store.AuditEvent) { e.ObjectID += "x" },
		"remote addr": func(e *store.AuditEvent) { e.RemoteAddr += "x" },
		"details":     func(e *store.AuditEvent) { e.Details = `{"k":"v"}` },
		"prev hash":   func(e *store.AuditEvent) { e.PrevHash = bytes.Repeat([]byte{1}, hashSize) },
		// Length prefixes keep a byte moving between fields from hashing alike.
		"field boundary": func(e *store.AuditEvent) { e.Actor, e.Action = "ab", "" },
	}
	want := chainHash(&base)
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			e := base
			edit(&e)
			if bytes.Equal(chainHash(&e), want) {
				t.Errorf("changing %s leaves the hash unchanged", name)
			}
		})
	}
}
