package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ConsentEvent is one grant, confirmation or withdrawal with its evidence.
type ConsentEvent struct {
	ID             string
	Address        string
	Purpose        string // "marketing" or a named list
	Action         string // grant, confirm, withdraw
	Source         string // api, form, import, console, unsubscribe
	WordingVersion string
	WordingHash    string
	RemoteAddr     string // truncated
	UserAgent      string
	Actor          string
	CreatedAt      time.Time
}

// InsertConsentEvent appends to the consent history.
func (q queries) InsertConsentEvent(ctx context.Context, e *ConsentEvent) error {
	_, err := q.ex.exec(ctx, q.sql("InsertConsentEvent"), e.ID, e.Address, e.Purpose, e.Action,
		e.Source, e.WordingVersion, e.WordingHash, e.RemoteAddr, e.UserAgent, e.Actor,
		e.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert consent event: %w", err)
	}
	return nil
}

// ListConsentEvents returns an address's consent history, oldest first.
func (q queries) ListConsentEvents(ctx context.Context, address string) ([]ConsentEvent, error) {
	rs, err := q.ex.query(ctx, q.sql("ListConsentEvents"), address)
	if err != nil {
		return nil, fmt.Errorf("list consent events: %w", err)
	}
	defer rs.Close()
	var out []ConsentEvent
	for rs.Next() {
		e, err := scanConsent(rs)
		if err != nil {
			return nil, err
		}
		out = append(out, *e)
	}
	return out, rs.Err()
}

// LatestConsent returns the newest grant or withdrawal for an address and
// purpose; ErrNotFound when there is none.
func (q queries) LatestConsent(
	ctx context.Context,
	address, purpose string,
) (*ConsentEvent, error) {
	e, err := scanConsent(q.ex.queryRow(ctx, q.sql("LatestConsentEvent"), address, purpose))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("latest consent: %w", err)
	}
	return e, nil
}

// LatestConsentRequest returns the newest double opt-in request for an
// address and purpose; ErrNotFound when there is none.
func (q queries) LatestConsentRequest(
	ctx context.Context,
	address, purpose string,
) (*ConsentEvent, error) {
	e, err := scanConsent(q.ex.queryRow(ctx, q.sql("LatestConsentRequest"), address, purpose))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("latest consent request: %w", err)
	}
	return e, nil
}

// GetConsentEvent loads one consent event.
func (q queries) GetConsentEvent(ctx context.Context, id string) (*ConsentEvent, error) {
	e, err := scanConsent(q.ex.queryRow(ctx, q.sql("GetConsentEvent"), id))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("get consent event: %w", err)
	}
	return e, nil
}

func scanConsent(s scanner) (*ConsentEvent, error) {
	var e ConsentEvent
	err := s.Scan(&e.ID, &e.Address, &e.Purpose, &e.Action, &e.Source, &e.WordingVersion,
		&e.WordingHash, &e.RemoteAddr, &e.UserAgent, &e.Actor, &e.CreatedAt)
	if err != nil {
		return nil, err
	}
	e.CreatedAt = e.CreatedAt.UTC()
	return &e, nil
}

// Suppression is an address that must not be mailed.
type Suppression struct {
	ID            string
	Address       string
	Scope         string // all, marketing
	Reason        string // unsubscribe, hard_bounce, complaint, manual
	Source        string
	MessageID     string
	CreatedAt     time.Time
	RemovedAt     *time.Time
	RemovedBy     string
	RemovalReason string
}

// InsertSuppression adds a suppression.
func (q queries) InsertSuppression(ctx context.Context, s *Suppression) error {
	var msg any
	if s.MessageID != "" {
		msg = s.MessageID
	}
	_, err := q.ex.exec(ctx, q.sql("InsertSuppression"), s.ID, s.Address, s.Scope, s.Reason,
		s.Source, msg, s.CreatedAt.UTC())
	if err != nil {
		return fmt.Errorf("insert suppression: %w", err)
	}
	return nil
}

// ActiveSuppressions returns an address's suppressions that are in force.
func (q queries) ActiveSuppressions(ctx context.Context, address string) ([]Suppression, error) {
	return q.suppressions(ctx, "ActiveSuppressions", address)
}

// ListSuppressions returns suppressions, removed ones included, for one
// address or ("" ) all, oldest first, at most limit.
func (q queries) ListSuppressions(
	ctx context.Context,
	address string,
	limit int,
) ([]Suppression, error) {
	return q.suppressions(ctx, "ListSuppressions", address, limit)
}

func (q queries) suppressions(
	ctx context.Context,
	name string,
	args ...any,
) ([]Suppression, error) {
	rs, err := q.ex.query(ctx, q.sql(name), args...)
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	defer rs.Close()
	var out []Suppression
	for rs.Next() {
		var s Suppression
		var msg, by, why sql.NullString
		var removed sql.NullTime
		err := rs.Scan(&s.ID, &s.Address, &s.Scope, &s.Reason, &s.Source, &msg, &s.CreatedAt,
			&removed, &by, &why)
		if err != nil {
			return nil, err
		}
		s.MessageID, s.RemovedBy, s.RemovalReason = msg.String, by.String, why.String
		s.CreatedAt = s.CreatedAt.UTC()
		s.RemovedAt = nullTime(removed)
		out = append(out, s)
	}
	return out, rs.Err()
}

// RemoveSuppression ends a suppression, keeping its row; ErrNotFound when
// there is no active one with that id.
func (q queries) RemoveSuppression(ctx context.Context, id, by, reason string, at time.Time) error {
	n, err := q.ex.exec(ctx, q.sql("RemoveSuppression"), id, at.UTC(), by, reason)
	if err != nil {
		return fmt.Errorf("remove suppression: %w", err)
	}
	if n == 0 {
		return ErrNotFound
	}
	return nil
}
