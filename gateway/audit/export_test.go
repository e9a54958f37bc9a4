package audit

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/migrations"
)

// appendTimed appends n events one minute apart from fixedTime.
func appendTimed(t *testing.T, db *store.DB, n int) {
	t.Helper()
	for i := range n {
		e := testEvent(i)
		e.At = fixedTime.Add(time.Duration(i) * time.Minute)
		if err := AppendNow(context.Background(), db, e); err != nil {
			t.Fatal(err)
		}
	}
}

func parseNDJSON(t *testing.T, b []byte) []ExportedEvent {
	t.Helper()
	var out []ExportedEvent
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		var x ExportedEvent
		if err := json.Unmarshal(sc.Bytes(), &x); err != nil {
			t.Fatalf("line %d: %v", len(out)+1, err)
		}
		out = append(out, x)
	}
	return out
}

func parseCSV(t *testing.T, b []byte) []ExportedEvent {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], exportColumns) {
		t.Fatalf("CSV header = %v, want %v", recs[:min(1, len(recs))], exportColumns)
	}
	var out []ExportedEvent
	for _, r := range recs[1:] {
		seq, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, ExportedEvent{Seq: seq, ID: r[1], At: r[2], Actor: r[3], Action: r[4],
			ObjectType: r[5], ObjectID: r[6], RemoteAddr: r[7], Details: r[8], PrevHash: r[9],
			Hash: r[10]})
	}
	return out
}

// checkExported proves each exported event rehashes to its exported hash
// and links to the one before it.
func checkExported(t *testing.T, got []ExportedEvent, wantFirst int64, wantCount int) {
	t.Helper()
	if len(got) != wantCount {
		t.Fatalf("exported %d events, want %d", len(got), wantCount)
	}
	for i, x := range got {
		if x.Seq != wantFirst+int64(i) {
			t.Fatalf("event %d has seq %d", i, x.Seq)
		}
		if len(x.Hash) != 2*hashSize || len(x.PrevHash) != 2*hashSize {
			t.Fatalf("seq %d: hashes missing from the export", x.Seq)
		}
		e, err := x.record()
		if err != nil {
			t.Fatal(err)
		}
		if hex.EncodeToString(chainHash(e)) != x.Hash {
			t.Errorf("seq %d: exported fields do not rehash to the exported hash", x.Seq)
		}
		if i > 0 && x.PrevHash != got[i-1].Hash {
			t.Errorf("seq %d: prev_hash does not link to seq %d", x.Seq, x.Seq-1)
		}
	}
}

func TestExportRoundTrip(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		const total = 25
		appendTimed(t, db, total)

		formats := map[string]func(*testing.T, []byte) []ExportedEvent{
			FormatNDJSON: parseNDJSON,
			FormatCSV:    parseCSV,
		}
		for format, parse := range formats {
			var buf bytes.Buffer
			n, err := Export(ctx, db, time.Time{}, time.Time{}, format, &buf)
			if err != nil || n != total {
				t.Fatalf("Export %s = %d, %v; want %d", format, n, err, total)
			}
			checkExported(t, parse(t, buf.Bytes()), 1, total)

			// [+5 min, +10 min) holds the events at minutes 5 to 9: seq 6 to 10.
			buf.Reset()
			since, until := fixedTime.Add(5*time.Minute), fixedTime.Add(10*time.Minute)
			n, err = Export(ctx, db, since, until, format, &buf)
			if err != nil || n != 5 {
				t.Fatalf("Export %s of a window = %d, %v; want 5", format, n, err)
			}
			checkExported(t, parse(t, buf.Bytes()), 6, 5)
		}
	})
}

func TestExportMoreThanOnePage(t *testing.T) {
	t.Parallel()
	db := storetest.New(t, migrations.SQLite)
	ctx := context.Background()
	err := db.InTx(ctx, func(tx *store.Tx) error {
		for i := range pageSize + 7 {
			if err := Append(ctx, tx, testEvent(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	verifyOK(t, db, pageSize+7)
	var buf bytes.Buffer
	n, err := Export(ctx, db, time.Time{}, time.Time{}, FormatNDJSON, &buf)
	if err != nil || n != pageSize+7 {
		t.Fatalf("Export = %d, %v", n, err)
	}
	checkExported(t, parseNDJSON(t, buf.Bytes()), 1, pageSize+7)
}

func TestExportUnknownFormat(t *testing.T) {
	t.Parallel()
	db := storetest.New(t, migrations.SQLite)
	var buf bytes.Buffer
	_, err := Export(context.Background(), db, time.Time{}, time.Time{}, "xml", &buf)
	if !errors.Is(err, ErrUnknownFormat) || buf.Len() != 0 {
		t.Fatalf("Export xml = %v with %d bytes, want ErrUnknownFormat and no output",
			err, buf.Len())
	}
}

func TestVerifyExport(t *testing.T) {
	t.Parallel()
	db := storetest.New(t, migrations.SQLite)
	ctx := context.Background()
	appendTimed(t, db, 12)

	var full, window bytes.Buffer
	if _, err := Export(ctx, db, time.Time{}, time.Time{}, FormatNDJSON, &full); err != nil {
		t.Fatal(err)
	}
	since := fixedTime.Add(4 * time.Minute)
	if _, err := Export(ctx, db, since, time.Time{}, FormatNDJSON, &window); err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		input   string
		wantBad int64
	}{
		{"full export", full.String(), 0},
		{"export from mid-chain", window.String(), 0},
		{"empty export", "", 0},
		{
			"edited actor",
			strings.Replace(full.String(), `"actor":"key_1"`, `"actor":"key_9"`, 1),
			2,
		},
		{"dropped line", dropLine(full.String(), 5), 5},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			rep, err := VerifyExport(strings.NewReader(tc.input))
			if err != nil {
				t.Fatal(err)
			}
			checkReport(t, "VerifyExport", rep, tc.wantBad)
		})
	}
}

// dropLine removes the n-th line (from 1).
func dropLine(s string, n int) string {
	lines := strings.SplitAfter(s, "\n")
	return strings.Join(slices.Delete(lines, n-1, n), "")
}

// FuzzVerifyExport feeds arbitrary input to the offline verifier: it must
// never panic, and a report it calls OK names no broken seq.
func FuzzVerifyExport(f *testing.F) {
	f.Add([]byte(`{"seq":1,"id":"a","at":"2025-03-14T15:09:26.535897Z","actor":"system",` +
		`"action":"config.loaded","object_type":"","object_id":"","remote_addr":"",` +
		`"details":"{}","prev_hash":"","hash":""}`))
	f.Add([]byte("{}\n{}"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rep, err := VerifyExport(bytes.NewReader(b))
		if err != nil {
			return
		}
		if rep.OK && (rep.FirstBad != 0 || rep.Reason != "") {
			t.Fatalf("OK report names a break: %+v", rep)
		}
		if !rep.OK && rep.Reason == "" {
			t.Fatalf("broken report without a reason: %+v", rep)
		}
	})
}
