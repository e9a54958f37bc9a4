package audit

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
)

// Export formats.
const (
	FormatNDJSON = "ndjson"
	FormatCSV    = "csv"
)

// farFuture stands in for an open end of an export's time range.
var farFuture = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// exportColumns names the exported fields, in CSV column order.
var exportColumns = []string{"seq", "id", "at", "actor", "action", "object_type", "object_id",
	"remote_addr", "details", "prev_hash", "hash"}

// ExportedEvent is one event as exported: every hashed field in its hashed
// form, hashes in lowercase hex.
type ExportedEvent struct {
	Seq        int64  `json:"seq"`
	ID         string `json:"id"`
	At         string `json:"at"`
	Actor      string `json:"actor"`
	Action     string `json:"action"`
	ObjectType string `json:"object_type"`
	ObjectID   string `json:"object_id"`
	RemoteAddr string `json:"remote_addr"`
	Details    string `json:"details"`
	PrevHash   string `json:"prev_hash"`
	Hash       string `json:"hash"`
}

func exported(e *store.AuditEvent) ExportedEvent {
	return ExportedEvent{
		Seq:        e.Seq,
		ID:         e.ID,
		At:         e.At.UTC().Format(timeLayout),
		Actor:      e.Actor,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		RemoteAddr: e.RemoteAddr,
		Details:    e.Details,
		PrevHash:   hex.EncodeToString(e.PrevHash),
		Hash:       hex.EncodeToString(e.Hash),
	}
}

func (x ExportedEvent) csvRecord() []string {
	return []string{strconv.FormatInt(x.Seq, 10), x.ID, x.At, x.Actor, x.Action, x.ObjectType,
		x.ObjectID, x.RemoteAddr, x.Details, x.PrevHash, x.Hash}
}

// record turns an exported event back into a row, for verification.
func (x ExportedEvent) record() (*store.AuditEvent, error) {
	at, err := time.Parse(timeLayout, x.At)
	if err != nil {
		return nil, fmt.Errorf("seq %d: bad time", x.Seq)
	}
	prev, err := hex.DecodeString(x.PrevHash)
	if err != nil {
		return nil, fmt.Errorf("seq %d: bad prev_hash", x.Seq)
	}
	h, err := hex.DecodeString(x.Hash)
	if err != nil {
		return nil, fmt.Errorf("seq %d: bad hash", x.Seq)
	}
	return &store.AuditEvent{Seq: x.Seq, ID: x.ID, At: at, Actor: x.Actor, Action: x.Action,
		ObjectType: x.ObjectType, ObjectID: x.ObjectID, RemoteAddr: x.RemoteAddr,
		Details: x.Details, PrevHash: prev, Hash: h}, nil
}

// Export writes the events whose time falls in [since, until) to w in seq
// order, as FormatNDJSON or FormatCSV, and returns how many it wrote. A zero
// since or until leaves that end open. The output carries every hashed
// field and both hashes, so the chain can be checked without the database
// (see the package documentation). CSV values are written as stored, with
// no spreadsheet-formula escaping, because escaping would change what was
// hashed.
func Export(
	ctx context.Context,
	db *store.DB,
	since, until time.Time,
	format string,
	w io.Writer,
) (int, error) {
	if format != FormatNDJSON && format != FormatCSV {
		return 0, fmt.Errorf("export audit log: %w", ErrUnknownFormat)
	}
	if until.IsZero() {
		until = farFuture
	}

	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	cw := csv.NewWriter(bw)
	if format == FormatCSV {
		if err := cw.Write(exportColumns); err != nil {
			return 0, fmt.Errorf("export audit log: %w", err)
		}
	}

	n := 0
	after := int64(math.MinInt64)
	for {
		page, err := db.ListAuditEventsBetween(ctx, after, since, until, pageSize)
		if err != nil {
			return n, fmt.Errorf("export audit log: %w", err)
		}
		for i := range page {
			x := exported(&page[i])
			if format == FormatCSV {
				err = cw.Write(x.csvRecord())
			} else {
				err = enc.Encode(x)
			}
			if err != nil {
				return n, fmt.Errorf("export audit log: %w", err)
			}
			n++
		}
		if len(page) < pageSize {
			break
		}
		after = page[len(page)-1].Seq
	}

	cw.Flush()
	if err := cw.Error(); err != nil {
		return n, fmt.Errorf("export audit log: %w", err)
	}
	if err := bw.Flush(); err != nil {
		return n, fmt.Errorf("export audit log: %w", err)
	}
	return n, nil
}

// VerifyExport checks an NDJSON export without the database. The first
// event's prev_hash is taken as given (an export may start mid-chain); from
// there every seq must follow, link and hash as Verify requires.
func VerifyExport(r io.Reader) (*Report, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var c *checker
	for {
		var x ExportedEvent
		err := dec.Decode(&x)
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("verify export: %w", err)
		}
		e, err := x.record()
		if err != nil {
			return nil, fmt.Errorf("verify export: %w", err)
		}
		if c == nil {
			c = newChecker()
			c.next, c.prev = e.Seq, e.PrevHash
		}
		c.add(e)
	}
	if c == nil {
		c = newChecker()
	}
	return c.finish(), nil
}
