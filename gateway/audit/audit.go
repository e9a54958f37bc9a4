package audit

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"strconv"
	"time"

	"github.com/google/uuid"

	"github.com/sealpost/sealpost/gateway/store"
)

// Limits on what one event may carry. The log is kept for years, so an
// event holds identifiers, not documents.
const (
	// MaxFieldBytes bounds actor, action, object type, object id and remote
	// address.
	MaxFieldBytes = 256

	// MaxDetailsBytes bounds the encoded Details object.
	MaxDetailsBytes = 4096
)

// hashDomain opens every hashed encoding; a new encoding gets a new tag.
const hashDomain = "sealpost-audit-v1"

// timeLayout is how at is written for hashing and export: UTC, microseconds.
const timeLayout = "2006-01-02T15:04:05.000000Z07:00"

// hashSize is the length of a SHA-256 hash.
const hashSize = sha256.Size

// Event is one thing that happened, as a caller reports it.
type Event struct {
	Actor      string // key id, user id or "system"
	Action     string // e.g. "key.created", "portal.verify_failed"
	ObjectType string
	ObjectID   string
	RemoteAddr string            // already truncated by the caller
	Details    map[string]string // identifiers and counts only, never PHI
	At         time.Time         // zero means now
}

// Append adds e to the chain inside tx, so that the audited change and its
// event commit or roll back together. It locks the chain head until tx
// ends (other appenders wait), so append last in a transaction that does
// other work.
func Append(ctx context.Context, tx *store.Tx, e Event) error {
	rec, err := newRecord(e)
	if err != nil {
		return err
	}

	seq, prev, err := tx.AdvanceAuditHead(ctx)
	if err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	rec.Seq, rec.PrevHash = seq, prev
	rec.Hash = chainHash(rec)

	if err := tx.InsertAuditEvent(ctx, rec); err != nil {
		return fmt.Errorf("append audit event: %w", err)
	}
	return nil
}

// AppendNow adds e to the chain in a transaction of its own, for events
// that accompany no other change (a failed login, a config load).
func AppendNow(ctx context.Context, db *store.DB, e Event) error {
	return db.InTx(ctx, func(tx *store.Tx) error { return Append(ctx, tx, e) })
}

// newRecord checks e and turns it into a row without seq and hashes.
func newRecord(e Event) (*store.AuditEvent, error) {
	if e.Actor == "" || e.Action == "" {
		return nil, fmt.Errorf("%w: actor and action are required", ErrInvalidEvent)
	}
	for _, f := range []string{e.Actor, e.Action, e.ObjectType, e.ObjectID, e.RemoteAddr} {
		if len(f) > MaxFieldBytes {
			return nil, fmt.Errorf("%w: a field exceeds %d bytes", ErrInvalidEvent, MaxFieldBytes)
		}
	}
	details, err := encodeDetails(e.Details)
	if err != nil {
		return nil, err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return nil, fmt.Errorf("append audit event: %w", err)
	}
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	return &store.AuditEvent{
		ID:         id.String(),
		At:         at.UTC().Truncate(time.Microsecond),
		Actor:      e.Actor,
		Action:     e.Action,
		ObjectType: e.ObjectType,
		ObjectID:   e.ObjectID,
		RemoteAddr: e.RemoteAddr,
		Details:    details,
	}, nil
}

// encodeDetails writes details as a JSON object with sorted keys.
func encodeDetails(details map[string]string) (string, error) {
	if len(details) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(details)
	if err != nil {
		return "", fmt.Errorf("%w: details: %w", ErrInvalidEvent, err)
	}
	if len(b) > MaxDetailsBytes {
		return "", fmt.Errorf("%w: details exceed %d bytes", ErrInvalidEvent, MaxDetailsBytes)
	}
	return string(b), nil
}

// chainHash computes an event's hash over the canonical encoding described
// in the package documentation.
func chainHash(e *store.AuditEvent) []byte {
	h := sha256.New()
	writeField(h, []byte(hashDomain))
	writeField(h, strconv.AppendInt(nil, e.Seq, 10))
	writeField(h, []byte(e.ID))
	writeField(h, []byte(e.At.UTC().Format(timeLayout)))
	writeField(h, []byte(e.Actor))
	writeField(h, []byte(e.Action))
	writeField(h, []byte(e.ObjectType))
	writeField(h, []byte(e.ObjectID))
	writeField(h, []byte(e.RemoteAddr))
	writeField(h, []byte(e.Details))
	writeField(h, e.PrevHash)
	return h.Sum(nil)
}

func writeField(h hash.Hash, b []byte) {
	var n [4]byte
	binary.BigEndian.PutUint32(n[:], uint32(len(b)))
	h.Write(n[:])
	h.Write(b)
}
