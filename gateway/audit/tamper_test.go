package audit

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
)

// chainLength is how many events each tampering case starts from.
const chainLength = 20

// forge writes e, rehashed as a forger who knows the encoding would.
func forge(t *testing.T, db *store.DB, e store.AuditEvent) {
	t.Helper()
	e.Hash = chainHash(&e)
	rawExec(t, db, `INSERT INTO sealpost_audit_event (seq, id, at, actor, action, object_type,
		object_id, remote_addr, details, prev_hash, hash)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		e.Seq, e.ID, e.At, e.Actor, e.Action, e.ObjectType, e.ObjectID, e.RemoteAddr,
		e.Details, e.PrevHash, e.Hash)
}

// shiftUp makes room at seq by moving it and every later event up by one.
func shiftUp(t *testing.T, db *store.DB, seq int64) {
	t.Helper()
	rawExec(t, db, "UPDATE sealpost_audit_event SET seq = -seq WHERE seq >= $1", seq)
	rawExec(t, db, "UPDATE sealpost_audit_event SET seq = 1 - seq WHERE seq < 0")
}

// swapSeq exchanges two events' places in the chain.
func swapSeq(t *testing.T, db *store.DB, a, b int64) {
	t.Helper()
	rawExec(t, db, "UPDATE sealpost_audit_event SET seq = -1 WHERE seq = $1", a)
	rawExec(t, db, "UPDATE sealpost_audit_event SET seq = $1 WHERE seq = $2", a, b)
	rawExec(t, db, "UPDATE sealpost_audit_event SET seq = $1 WHERE seq = -1", b)
}

// setHeadRow points the head row at seq, as a careful forger would.
func setHeadRow(t *testing.T, db *store.DB, seq int64) {
	t.Helper()
	hash := events(t, db)[seq-1].Hash
	rawExec(t, db, "UPDATE sealpost_audit_head SET seq = $1, hash = $2 WHERE id = 1", seq, hash)
}

// rehashFrom recomputes every link from seq on, hiding an edit from
// Verify, and moves the head row along.
func rehashFrom(t *testing.T, db *store.DB, seq int64) {
	t.Helper()
	all := events(t, db)
	prev := all[seq-2].Hash
	for _, e := range all[seq-1:] {
		e.PrevHash = prev
		e.Hash = chainHash(&e)
		rawExec(t, db, "UPDATE sealpost_audit_event SET prev_hash = $1, hash = $2 WHERE seq = $3",
			e.PrevHash, e.Hash, e.Seq)
		prev = e.Hash
	}
	setHeadRow(t, db, all[len(all)-1].Seq)
}

func TestVerifyFindsFirstBrokenSeq(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		tamper func(t *testing.T, db *store.DB)
		// wantBad is the first broken seq Verify must report; 0 means Verify
		// cannot see the change and only VerifyAgainst a head file can.
		wantBad        int64
		wantBadAgainst int64
	}{
		{
			name: "edited actor",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "UPDATE sealpost_audit_event SET actor = 'system' WHERE seq = 7")
			},
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			name: "edited details",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db,
					`UPDATE sealpost_audit_event SET details = '{"n":"2"}' WHERE seq = 7`)
			},
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			name: "edited time",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "UPDATE sealpost_audit_event SET at = $1 WHERE seq = 7", fixedTime)
			},
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			name: "edited hash of the last event",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "UPDATE sealpost_audit_event SET hash = prev_hash WHERE seq = $1",
					chainLength)
			},
			wantBad: chainLength, wantBadAgainst: chainLength,
		},
		{
			name: "deleted row",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "DELETE FROM sealpost_audit_event WHERE seq = 7")
			},
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			name: "deleted first row",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "DELETE FROM sealpost_audit_event WHERE seq = 1")
			},
			wantBad: 1, wantBadAgainst: 1,
		},
		{
			name: "inserted row with a made-up hash",
			tamper: func(t *testing.T, db *store.DB) {
				e := events(t, db)[6]
				shiftUp(t, db, 7)
				e.ID, e.Actor = "forged", "system"
				forge(t, db, e)
				rawExec(t, db, "UPDATE sealpost_audit_event SET hash = $1 WHERE seq = 7",
					make([]byte, hashSize))
			},
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			// The forged row itself links and hashes correctly; the event it
			// pushed aside is the first that no longer does.
			name: "inserted row with a valid link",
			tamper: func(t *testing.T, db *store.DB) {
				e := events(t, db)[6]
				shiftUp(t, db, 7)
				e.ID, e.Actor = "forged", "system"
				forge(t, db, e)
			},
			wantBad: 8, wantBadAgainst: 8,
		},
		{
			name:    "swapped seq",
			tamper:  func(t *testing.T, db *store.DB) { swapSeq(t, db, 5, 12) },
			wantBad: 5, wantBadAgainst: 5,
		},
		{
			name:    "swapped neighbours",
			tamper:  func(t *testing.T, db *store.DB) { swapSeq(t, db, 7, 8) },
			wantBad: 7, wantBadAgainst: 7,
		},
		{
			name: "truncated tail",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "DELETE FROM sealpost_audit_event WHERE seq > 15")
			},
			wantBad: 16, wantBadAgainst: 16,
		},
		{
			name: "truncated tail with head row rewritten",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "DELETE FROM sealpost_audit_event WHERE seq > 15")
				setHeadRow(t, db, 15)
			},
			wantBad: 0, wantBadAgainst: 16,
		},
		{
			name: "truncated everything with head row reset",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "DELETE FROM sealpost_audit_event")
				rawExec(t, db, "UPDATE sealpost_audit_head SET seq = 0, hash = $1",
					make([]byte, hashSize))
			},
			wantBad: 0, wantBadAgainst: 1,
		},
		{
			name: "edited row with the chain rebuilt after it",
			tamper: func(t *testing.T, db *store.DB) {
				rawExec(t, db, "UPDATE sealpost_audit_event SET actor = 'system' WHERE seq = 7")
				rehashFrom(t, db, 7)
			},
			wantBad: 0, wantBadAgainst: chainLength,
		},
	}

	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				ctx := context.Background()
				appendEvents(t, db, 0, chainLength)
				path := filepath.Join(t.TempDir(), "head.json")
				if err := WriteHead(ctx, db, path); err != nil {
					t.Fatal(err)
				}
				head, err := ReadHead(path)
				if err != nil {
					t.Fatal(err)
				}

				tc.tamper(t, db)

				rep, err := Verify(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				checkReport(t, "Verify", rep, tc.wantBad)
				rep, err = VerifyAgainst(ctx, db, head)
				if err != nil {
					t.Fatal(err)
				}
				checkReport(t, "VerifyAgainst", rep, tc.wantBadAgainst)
			})
		})
	}
}

func checkReport(t *testing.T, what string, rep *Report, wantBad int64) {
	t.Helper()
	if wantBad == 0 {
		if !rep.OK {
			t.Errorf("%s = %+v, want OK (this change is invisible without a head file)",
				what, rep)
		}
		return
	}
	if rep.OK || rep.FirstBad != wantBad || rep.Reason == "" {
		t.Errorf("%s = OK %v, first bad %d (%s); want broken at seq %d",
			what, rep.OK, rep.FirstBad, rep.Reason, wantBad)
	}
}
