// Package compliance owns consent and suppression: who agreed to what mail,
// with which evidence, and which addresses must not be mailed. It answers
// the two questions every message meets twice, at acceptance and just before
// it is sent: is the address suppressed, and (for marketing) is there
// current consent. It also serves RFC 8058 one-click unsubscribe.
//
// Addresses are keyed in a normalised form: the domain as a lower-case
// A-label, the local part in Unicode NFC and lower case. RFC 5321 allows a
// case-sensitive local part, but practically no mailbox is one, and a
// suppression must not be dodged by writing "Pat" for "pat".
package compliance

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/text/unicode/norm"

	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/store"
)

// Scopes, reasons and purposes.
const (
	ScopeAll       = "all"
	ScopeMarketing = "marketing"

	ReasonUnsubscribe = "unsubscribe"
	ReasonHardBounce  = "hard_bounce"
	ReasonComplaint   = "complaint"
	ReasonManual      = "manual"

	PurposeMarketing = "marketing"
)

// ErrInvalid means an input was refused; the message says which, never the
// value.
var ErrInvalid = errors.New("invalid")

// Normalize returns the key an address is suppressed and consented under.
func Normalize(email string) (string, error) {
	a, err := address.Parse(strings.TrimSpace(email))
	if err != nil {
		return "", err
	}
	at := strings.LastIndexByte(a.Email, '@')
	return strings.ToLower(
		norm.NFC.String(a.Email[:at]),
	) + "@" + strings.ToLower(
		a.Email[at+1:],
	), nil
}

// Service answers suppression and consent questions and records changes.
type Service struct {
	db      *store.DB
	secret  []byte
	baseURL string
	logger  *slog.Logger
	now     func() time.Time
	// OnChange, when set, is told of every consent or suppression change
	// (for the audit log and webhooks).
	OnChange func(ctx context.Context, tx *store.Tx, c Change) error
}

// Change describes a consent or suppression change, without the address.
type Change struct {
	Kind      string // consent.granted, consent.withdrawn, suppression.added, suppression.removed
	ObjectID  string // the consent event or suppression id
	MessageID string // the message that caused it, if any
	Actor     string
	Reason    string
}

// New returns a Service. secret (at least 32 bytes) signs unsubscribe
// tokens; baseURL is the public https base of the unsubscribe links.
func New(db *store.DB, secret []byte, baseURL string, logger *slog.Logger) *Service {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: db, secret: secret, baseURL: strings.TrimRight(baseURL, "/"),
		logger: logger, now: time.Now}
}

// SetBaseURL sets the public base of unsubscribe links.
func (s *Service) SetBaseURL(u string) { s.baseURL = strings.TrimRight(u, "/") }

// Suppressed reports whether mail of category to email must not be sent,
// and the reason. Suppressions of scope all stop every category; scope
// marketing stops marketing only.
func (s *Service) Suppressed(ctx context.Context, email, category string) (string, bool, error) {
	key, err := Normalize(email)
	if err != nil {
		return "", false, err
	}
	list, err := s.db.ActiveSuppressions(ctx, key)
	if err != nil {
		return "", false, err
	}
	for _, sup := range list {
		if sup.Scope == ScopeAll || category == "marketing" {
			return sup.Reason, true, nil
		}
	}
	return "", false, nil
}

// HasConsent reports whether the newest grant-or-withdrawal for email and
// purpose is a grant.
func (s *Service) HasConsent(ctx context.Context, email, purpose string) (bool, error) {
	key, err := Normalize(email)
	if err != nil {
		return false, err
	}
	e, err := s.db.LatestConsent(ctx, key, purpose)
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return e.Action == "grant" || e.Action == "confirm", nil
}

// Suppress adds a suppression inside tx.
func (s *Service) Suppress(ctx context.Context, tx *store.Tx, email, scope, reason, source,
	messageID, actor string,
) (*store.Suppression, error) {
	key, err := Normalize(email)
	if err != nil {
		return nil, err
	}
	// An address already suppressed as widely stays as it is: repeated
	// one-click POSTs or bounces must not pile up rows that a single
	// removal would then leave behind.
	active, err := tx.ActiveSuppressions(ctx, key)
	if err != nil {
		return nil, err
	}
	for i := range active {
		if active[i].Scope == ScopeAll || active[i].Scope == scope {
			return &active[i], nil
		}
	}
	sup := &store.Suppression{ID: newID(), Address: key, Scope: scope, Reason: reason,
		Source: source, MessageID: messageID, CreatedAt: s.now()}
	if err := tx.InsertSuppression(ctx, sup); err != nil {
		return nil, err
	}
	if s.OnChange != nil {
		err := s.OnChange(ctx, tx, Change{Kind: "suppression.added", ObjectID: sup.ID,
			MessageID: messageID, Actor: actor, Reason: reason})
		if err != nil {
			return nil, err
		}
	}
	return sup, nil
}

// RecordConsent appends a consent event inside tx. The address is
// normalised here.
func (s *Service) RecordConsent(ctx context.Context, tx *store.Tx, e *store.ConsentEvent) error {
	key, err := Normalize(e.Address)
	if err != nil {
		return err
	}
	e.Address = key
	e.ID = newID()
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.now()
	}
	if err := tx.InsertConsentEvent(ctx, e); err != nil {
		return err
	}
	if s.OnChange != nil {
		kind := "consent.granted"
		if e.Action == "withdraw" {
			kind = "consent.withdrawn"
		}
		return s.OnChange(ctx, tx, Change{Kind: kind, ObjectID: e.ID, Actor: e.Actor})
	}
	return nil
}

// WordingHash is the SHA-256 of consent wording, kept as evidence of what
// the person agreed to.
func WordingHash(wording string) string {
	h := sha256.Sum256([]byte(wording))
	return hex.EncodeToString(h[:])
}

// CanUnsubscribe reports whether unsubscribe links can be made and honoured
// (a signing key and a public URL are configured).
func (s *Service) CanUnsubscribe() bool { return len(s.secret) >= 32 && s.baseURL != "" }

// UnsubscribeURL returns the one-click unsubscribe link of a message. Its
// token is the message id with an HMAC; it carries no address.
func (s *Service) UnsubscribeURL(messageID string) string {
	return s.baseURL + "/u/" + s.token(messageID)
}

func (s *Service) token(messageID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("sealpost unsubscribe v1\x00"))
	m.Write([]byte(messageID))
	return base64.RawURLEncoding.EncodeToString([]byte(messageID)) + "." +
		base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// messageOf checks a token and returns its message id.
func (s *Service) messageOf(token string) (string, bool) {
	idPart, _, ok := strings.Cut(token, ".")
	if !ok || len(token) > 200 || len(s.secret) < 32 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(idPart)
	if err != nil {
		return "", false
	}
	id := string(raw)
	return id, hmac.Equal([]byte(s.token(id)), []byte(token))
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
