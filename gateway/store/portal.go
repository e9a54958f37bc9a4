package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Payload is a sealed sensitive payload: ciphertext and its wrapped data
// key, never plaintext.
type Payload struct {
	MessageID  string
	KeyID      string
	WrappedKey []byte
	Nonce      []byte
	Ciphertext []byte
	ExpiresAt  time.Time
}

// InsertPayload stores a sealed payload.
func (q queries) InsertPayload(ctx context.Context, p *Payload) error {
	_, err := q.ex.exec(ctx, q.sql("InsertPayload"), p.MessageID, p.KeyID, p.WrappedKey, p.Nonce,
		p.Ciphertext, p.ExpiresAt.UTC())
	if err != nil {
		return fmt.Errorf("insert payload: %w", err)
	}
	return nil
}

// GetPayload loads a message's sealed payload; ErrNotFound once purged.
func (q queries) GetPayload(ctx context.Context, messageID string) (*Payload, error) {
	var p Payload
	err := q.ex.queryRow(ctx, q.sql("GetPayload"), messageID).Scan(&p.MessageID, &p.KeyID,
		&p.WrappedKey, &p.Nonce, &p.Ciphertext, &p.ExpiresAt)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get payload: %w", err)
	}
	p.ExpiresAt = p.ExpiresAt.UTC()
	return &p, nil
}

// PayloadKey is a payload's wrapped data key with its sealed content, for
// re-wrapping (which never decrypts the content).
type PayloadKey struct {
	MessageID  string
	KeyID      string
	WrappedKey []byte
	Nonce      []byte
	Ciphertext []byte
}

// ListPayloadKeysNotUnder returns up to limit payload keys wrapped under a
// key other than keyID.
func (q queries) ListPayloadKeysNotUnder(
	ctx context.Context,
	keyID string,
	limit int,
) ([]PayloadKey, error) {
	rs, err := q.ex.query(ctx, q.sql("ListPayloadKeys"), keyID, limit)
	if err != nil {
		return nil, fmt.Errorf("list payload keys: %w", err)
	}
	defer rs.Close()
	var out []PayloadKey
	for rs.Next() {
		var k PayloadKey
		if err := rs.Scan(&k.MessageID, &k.KeyID, &k.WrappedKey, &k.Nonce, &k.Ciphertext); err != nil {
			return nil, fmt.Errorf("list payload keys: %w", err)
		}
		out = append(out, k)
	}
	return out, rs.Err()
}

// RewrapPayload replaces a payload's wrapped key if it is still wrapped
// under oldKeyID.
func (q queries) RewrapPayload(
	ctx context.Context,
	messageID, oldKeyID, newKeyID string,
	wrapped []byte,
) error {
	if _, err := q.ex.exec(ctx, q.sql("RewrapPayload"), messageID, newKeyID, wrapped, oldKeyID); err != nil {
		return fmt.Errorf("rewrap payload: %w", err)
	}
	return nil
}

// PurgeExpired deletes payloads, portal links and sessions past their
// expiry and returns how many payloads went.
func (q queries) PurgeExpired(
	ctx context.Context,
	now time.Time,
	idle time.Duration,
) (int64, error) {
	n, err := q.ex.exec(ctx, q.sql("PurgeExpiredPayloads"), now.UTC())
	if err != nil {
		return 0, fmt.Errorf("purge payloads: %w", err)
	}
	if _, err := q.ex.exec(ctx, q.sql("PurgeExpiredPortalLinks"), now.UTC()); err != nil {
		return 0, fmt.Errorf("purge portal links: %w", err)
	}
	if _, err := q.ex.exec(ctx, q.sql("DeletePortalSessions"), now.UTC(), now.Add(-idle).UTC()); err != nil {
		return 0, fmt.Errorf("purge portal sessions: %w", err)
	}
	if n > 0 && isSQLite(q) {
		// The WAL still holds the deleted pages' old images until a
		// checkpoint writes them back and the log is truncated.
		if _, err := q.ex.exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			return n, fmt.Errorf("checkpoint after purge: %w", err)
		}
	}
	return n, nil
}

// PortalLink is an expiring link to one message's sensitive payload.
type PortalLink struct {
	TokenHash      []byte
	MessageID      string
	KnowledgeKind  string // "", "dob" or "zip"
	KnowledgeHash  string // argon2id encoding; "" when none
	CodeHash       []byte
	CodeExpiresAt  *time.Time
	CodeSentAt     *time.Time
	FailedAttempts int
	LockedAt       *time.Time
	ExpiresAt      time.Time
	CreatedAt      time.Time
}

// InsertPortalLink stores a link.
func (q queries) InsertPortalLink(ctx context.Context, l *PortalLink) error {
	var kind, hash any
	if l.KnowledgeKind != "" {
		kind, hash = l.KnowledgeKind, l.KnowledgeHash
	}
	_, err := q.ex.exec(ctx, q.sql("InsertPortalLink"), l.TokenHash, l.MessageID, kind, hash,
		l.ExpiresAt.UTC(), l.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert portal link: %w", err)
	}
	return nil
}

// GetPortalLink finds a link by its token's hash.
func (q queries) GetPortalLink(ctx context.Context, tokenHash []byte) (*PortalLink, error) {
	var (
		l                         PortalLink
		kind, khash               sql.NullString
		codeExp, codeSent, locked sql.NullTime
	)
	err := q.ex.queryRow(ctx, q.sql("GetPortalLink"), tokenHash).Scan(&l.TokenHash, &l.MessageID,
		&kind, &khash, &l.CodeHash, &codeExp, &codeSent, &l.FailedAttempts, &locked, &l.ExpiresAt,
		&l.CreatedAt)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get portal link: %w", err)
	}
	l.KnowledgeKind, l.KnowledgeHash = kind.String, khash.String
	l.CodeExpiresAt, l.CodeSentAt, l.LockedAt = nullTime(
		codeExp,
	), nullTime(
		codeSent,
	), nullTime(
		locked,
	)
	l.ExpiresAt, l.CreatedAt = l.ExpiresAt.UTC(), l.CreatedAt.UTC()
	return &l, nil
}

func nullTime(t sql.NullTime) *time.Time {
	if !t.Valid {
		return nil
	}
	u := t.Time.UTC()
	return &u
}

// SetPortalCode stores the hash of a newly sent one-time code.
func (q queries) SetPortalCode(
	ctx context.Context,
	tokenHash, codeHash []byte,
	expires, sent time.Time,
) error {
	if _, err := q.ex.exec(ctx, q.sql("SetPortalCode"), tokenHash, codeHash, expires.UTC(), sent.UTC()); err != nil {
		return fmt.Errorf("set portal code: %w", err)
	}
	return nil
}

// ClearPortalCode uses up the code whose hash is codeHash; it reports false
// when another verification used it first.
func (q queries) ClearPortalCode(ctx context.Context, tokenHash, codeHash []byte) (bool, error) {
	n, err := q.ex.exec(ctx, q.sql("ClearPortalCode"), tokenHash, codeHash)
	if err != nil {
		return false, fmt.Errorf("clear portal code: %w", err)
	}
	return n == 1, nil
}

// ReservePortalAttempt counts a verification attempt if the link is below
// limit and not locked; it reports false when no attempt is left.
func (q queries) ReservePortalAttempt(ctx context.Context, tokenHash []byte, limit int) (bool, error) {
	var n int
	err := q.ex.queryRow(ctx, q.sql("ReservePortalAttempt"), tokenHash, limit).Scan(&n)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("reserve portal attempt: %w", err)
	}
	return true, nil
}

// ReleasePortalAttempt gives back an attempt that succeeded.
func (q queries) ReleasePortalAttempt(ctx context.Context, tokenHash []byte) error {
	if _, err := q.ex.exec(ctx, q.sql("ReleasePortalAttempt"), tokenHash); err != nil {
		return fmt.Errorf("release portal attempt: %w", err)
	}
	return nil
}

// LockPortalLink locks a link.
func (q queries) LockPortalLink(ctx context.Context, tokenHash []byte, at time.Time) error {
	if _, err := q.ex.exec(ctx, q.sql("LockPortalLink"), tokenHash, at.UTC()); err != nil {
		return fmt.Errorf("lock portal link: %w", err)
	}
	return nil
}

// InsertPortalSession starts a verified session.
func (q queries) InsertPortalSession(ctx context.Context, sessionHash []byte, messageID string,
	now, expires time.Time,
) error {
	_, err := q.ex.exec(
		ctx,
		q.sql("InsertPortalSession"),
		sessionHash,
		messageID,
		now.UTC(),
		expires.UTC(),
	)
	if err != nil {
		return fmt.Errorf("insert portal session: %w", err)
	}
	return nil
}

// TouchPortalSession returns the message of a live session (seen within
// idle, before its absolute expiry) and whether its one view was used, and
// marks it seen; ErrNotFound otherwise.
func (q queries) TouchPortalSession(ctx context.Context, sessionHash []byte, now time.Time,
	idle time.Duration,
) (string, bool, error) {
	var id string
	var viewed sql.NullTime
	err := q.ex.queryRow(ctx, q.sql("TouchPortalSession"), sessionHash, now.UTC(),
		now.Add(-idle).UTC()).Scan(&id, &viewed)
	if errors.Is(err, ErrNotFound) {
		return "", false, ErrNotFound
	}
	if err != nil {
		return "", false, fmt.Errorf("touch portal session: %w", err)
	}
	return id, viewed.Valid, nil
}

// MarkPortalSessionViewed claims a session's single view; it reports false
// when the view was already used.
func (q queries) MarkPortalSessionViewed(
	ctx context.Context,
	sessionHash []byte,
	now time.Time,
) (bool, error) {
	n, err := q.ex.exec(ctx, q.sql("MarkPortalSessionViewed"), sessionHash, now.UTC())
	if err != nil {
		return false, fmt.Errorf("mark portal session viewed: %w", err)
	}
	return n == 1, nil
}

// PortalEvent is one recorded portal action.
type PortalEvent struct {
	ID         string
	MessageID  string
	Kind       string // view, code_sent, verify_failed, locked, verified
	RemoteAddr string // truncated
	CreatedAt  time.Time
}

// InsertPortalEvent records a portal action.
func (q queries) InsertPortalEvent(ctx context.Context, e *PortalEvent) error {
	_, err := q.ex.exec(ctx, q.sql("InsertPortalEvent"), e.ID, e.MessageID, e.Kind, e.RemoteAddr,
		e.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert portal event: %w", err)
	}
	return nil
}

// ListPortalEvents returns a message's portal events, oldest first.
func (q queries) ListPortalEvents(ctx context.Context, messageID string) ([]PortalEvent, error) {
	rs, err := q.ex.query(ctx, q.sql("ListPortalEvents"), messageID)
	if err != nil {
		return nil, fmt.Errorf("list portal events: %w", err)
	}
	defer rs.Close()
	var out []PortalEvent
	for rs.Next() {
		var e PortalEvent
		if err := rs.Scan(&e.ID, &e.MessageID, &e.Kind, &e.RemoteAddr, &e.CreatedAt); err != nil {
			return nil, err
		}
		e.CreatedAt = e.CreatedAt.UTC()
		out = append(out, e)
	}
	return out, rs.Err()
}

func isSQLite(q queries) bool {
	_, ok := q.ex.(sqlExecutor)
	return ok
}
