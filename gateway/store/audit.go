package store

import (
	"context"
	"fmt"
	"time"
)

// AuditEvent is one stored link of the audit chain. The store keeps and
// returns the fields as given; package audit computes and checks the hashes.
type AuditEvent struct {
	Seq        int64
	ID         string
	At         time.Time
	Actor      string
	Action     string
	ObjectType string
	ObjectID   string
	RemoteAddr string // truncated by the caller
	Details    string // JSON object text, exactly as hashed
	PrevHash   []byte
	Hash       []byte
}

// AdvanceAuditHead claims the next audit seq and returns it with the hash of
// the event before it. On PostgreSQL it locks the head row until the
// transaction ends, so call it inside a transaction and finish the append
// with InsertAuditEvent in the same one.
func (q queries) AdvanceAuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var prev []byte
	if err := q.ex.queryRow(ctx, q.sql("AdvanceAuditHead")).Scan(&seq, &prev); err != nil {
		return 0, nil, fmt.Errorf("advance audit head: %w", err)
	}
	return seq, prev, nil
}

// InsertAuditEvent stores e, whose Seq was claimed by AdvanceAuditHead, and
// records its hash as the new head.
func (q queries) InsertAuditEvent(ctx context.Context, e *AuditEvent) error {
	_, err := q.ex.exec(ctx, q.sql("InsertAuditEvent"), e.Seq, e.ID, e.At.UTC(), e.Actor,
		e.Action, e.ObjectType, e.ObjectID, e.RemoteAddr, e.Details, e.PrevHash, e.Hash)
	if err != nil {
		return fmt.Errorf("insert audit event: %w", err)
	}
	n, err := q.ex.exec(ctx, q.sql("SetAuditHeadHash"), e.Seq, e.Hash, e.At.UTC())
	if err != nil {
		return fmt.Errorf("set audit head: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("set audit head: %w", ErrConflict)
	}
	return nil
}

// AuditHead returns the newest seq and hash the head row records; seq 0 and
// an all-zero hash for an empty chain.
func (q queries) AuditHead(ctx context.Context) (int64, []byte, error) {
	var seq int64
	var hash []byte
	if err := q.ex.queryRow(ctx, q.sql("GetAuditHead")).Scan(&seq, &hash); err != nil {
		return 0, nil, fmt.Errorf("get audit head: %w", err)
	}
	return seq, hash, nil
}

// ListAuditEvents returns up to limit events with seq above afterSeq, in seq
// order.
func (q queries) ListAuditEvents(
	ctx context.Context,
	afterSeq int64,
	limit int,
) ([]AuditEvent, error) {
	rs, err := q.ex.query(ctx, q.sql("ListAuditEvents"), afterSeq, limit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return scanAuditEvents(rs)
}

// ListAuditEventsBetween returns up to limit events with seq above afterSeq
// and a time in [since, until), in seq order.
func (q queries) ListAuditEventsBetween(
	ctx context.Context,
	afterSeq int64,
	since, until time.Time,
	limit int,
) ([]AuditEvent, error) {
	rs, err := q.ex.query(ctx, q.sql("ListAuditEventsBetween"), afterSeq, since.UTC(),
		until.UTC(), limit)
	if err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return scanAuditEvents(rs)
}

func scanAuditEvents(rs rows) ([]AuditEvent, error) {
	defer rs.Close()
	var out []AuditEvent
	for rs.Next() {
		var e AuditEvent
		err := rs.Scan(&e.Seq, &e.ID, &e.At, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID,
			&e.RemoteAddr, &e.Details, &e.PrevHash, &e.Hash)
		if err != nil {
			return nil, fmt.Errorf("list audit events: %w", err)
		}
		e.At = e.At.UTC()
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("list audit events: %w", err)
	}
	return out, nil
}
