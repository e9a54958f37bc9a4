package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Status is a message's place in its lifecycle.
type Status string

// The message lifecycle. A message is accepted as queued; each delivery
// attempt ends it sent, deferred (to be retried) or failed.
const (
	StatusQueued     Status = "queued"
	StatusSending    Status = "sending"
	StatusSent       Status = "sent"
	StatusDeferred   Status = "deferred"
	StatusFailed     Status = "failed"
	StatusSuppressed Status = "suppressed"
	StatusRejected   Status = "rejected"
)

// Message is one notification to one recipient.
type Message struct {
	ID               string
	APIKeyID         string
	IdempotencyKey   string // "" when the request carried none
	RequestHash      []byte
	TemplateName     string
	TemplateVersion  int
	Category         string
	Recipient        string // ASCII address, A-label domain
	RecipientName    string
	Data             string // template data as JSON
	Headers          string // extra headers as a JSON object
	RFCMessageID     string // Message-ID header value without brackets; stable across retries
	Status           Status
	Attempts         int
	JobID            int64
	LastReplyCode    int
	LastEnhancedCode string
	LastError        string // value-free reason of the last failed attempt
	CreatedAt        time.Time
	UpdatedAt        time.Time
	SentAt           *time.Time
}

// LogValue logs identifiers and state only, never the recipient or data.
func (m *Message) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("id", m.ID),
		slog.String("template", m.TemplateName),
		slog.String("status", string(m.Status)),
	)
}

// InsertMessage stores m. It returns ErrConflict, inserting nothing, when
// another message already holds m's idempotency key for the same API key.
func (q queries) InsertMessage(ctx context.Context, m *Message) error {
	var idem any
	if m.IdempotencyKey != "" {
		idem = m.IdempotencyKey
	}
	n, err := q.ex.exec(ctx, q.sql("InsertMessage"),
		m.ID, m.APIKeyID, idem, m.RequestHash, m.TemplateName, m.TemplateVersion,
		m.Category, m.Recipient, m.RecipientName, m.Data, m.Headers, m.RFCMessageID,
		string(m.Status), m.CreatedAt.UTC(), jobID(m.JobID))
	if err != nil {
		return fmt.Errorf("insert message: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("insert message: %w", ErrConflict)
	}
	return nil
}

func jobID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// JobState returns the state of the River job with id (River's own words:
// available, running, retryable, completed, …); ErrNotFound once the job has
// been cleaned away.
func (q queries) JobState(ctx context.Context, id int64) (string, error) {
	var state string
	if err := q.ex.queryRow(ctx, q.sql("GetJobState"), id).Scan(&state); err != nil {
		if errors.Is(err, ErrNotFound) {
			return "", ErrNotFound
		}
		return "", fmt.Errorf("get job state: %w", err)
	}
	return state, nil
}

// GetMessage loads a message by id; ErrNotFound when there is none.
func (q queries) GetMessage(ctx context.Context, id string) (*Message, error) {
	m, err := scanMessage(q.ex.queryRow(ctx, q.sql("GetMessage"), id))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get message: %w", err)
	}
	return m, nil
}

// GetMessageByIdempotencyKey finds the message an API key accepted under key.
func (q queries) GetMessageByIdempotencyKey(
	ctx context.Context,
	apiKeyID, key string,
) (*Message, error) {
	m, err := scanMessage(q.ex.queryRow(ctx, q.sql("GetMessageByIdempotencyKey"), apiKeyID, key))
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, ErrNotFound
		}
		return nil, fmt.Errorf("get message by idempotency key: %w", err)
	}
	return m, nil
}

// Attempt is the outcome of one delivery attempt.
type Attempt struct {
	Status       Status
	ReplyCode    int
	EnhancedCode string
	Error        string // value-free reason; "" on success
	At           time.Time
}

// RecordAttempt writes the outcome of a delivery attempt and counts it.
func (q queries) RecordAttempt(ctx context.Context, id string, a Attempt) error {
	var sentAt, code, enhanced, reason any
	if a.Status == StatusSent {
		sentAt = a.At.UTC()
	}
	if a.ReplyCode != 0 {
		code = a.ReplyCode
	}
	if a.EnhancedCode != "" {
		enhanced = a.EnhancedCode
	}
	if a.Error != "" {
		reason = a.Error
	}
	n, err := q.ex.exec(ctx, q.sql("RecordAttempt"), id, string(a.Status), code, enhanced, reason,
		a.At.UTC(), sentAt)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("record attempt: %w", ErrNotFound)
	}
	return nil
}

func scanMessage(s scanner) (*Message, error) {
	var (
		m                       Message
		idem, enhanced, lastErr sql.NullString
		jobID, code             sql.NullInt64
		sentAt                  sql.NullTime
		status                  string
	)
	err := s.Scan(&m.ID, &m.APIKeyID, &idem, &m.RequestHash, &m.TemplateName,
		&m.TemplateVersion, &m.Category, &m.Recipient, &m.RecipientName, &m.Data, &m.Headers,
		&m.RFCMessageID, &status, &m.Attempts, &jobID, &code, &enhanced, &lastErr,
		&m.CreatedAt, &m.UpdatedAt, &sentAt)
	if err != nil {
		return nil, err
	}
	m.Status = Status(status)
	m.IdempotencyKey = idem.String
	m.JobID = jobID.Int64
	m.LastReplyCode = int(code.Int64)
	m.LastEnhancedCode = enhanced.String
	m.LastError = lastErr.String
	m.CreatedAt = m.CreatedAt.UTC()
	m.UpdatedAt = m.UpdatedAt.UTC()
	if sentAt.Valid {
		t := sentAt.Time.UTC()
		m.SentAt = &t
	}
	return &m, nil
}

// ClearMessageData empties a message's template data, for messages whose
// data is a secret only until it is sent (one-time codes, confirmation
// links).
func (q queries) ClearMessageData(ctx context.Context, id string) error {
	if _, err := q.ex.exec(ctx, q.sql("ClearMessageData"), id); err != nil {
		return fmt.Errorf("clear message data: %w", err)
	}
	return nil
}
