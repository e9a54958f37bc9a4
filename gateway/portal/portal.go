// Package portal keeps sensitive payloads behind authenticated links. When a
// message carries a sensitive payload, the payload is sealed (AES-256-GCM
// under a per-message data key wrapped by the master key, the message id
// bound as associated data) and a portal link is created; the email carries
// only the link. The recipient proves who they are with a one-time code
// mailed to the same address (and, where the sender supplied one, a
// knowledge check such as a date of birth), then sees the content once in a
// short session. Every view, code, failed verification and lock is
// recorded. At expiry the ciphertext and wrapped key are deleted.
//
// A link's token is derived from the message id with a server secret
// (HMAC-SHA256), so the worker can put the same link in the email on every
// attempt without the token ever being stored: the database keeps only its
// SHA-256.
package portal

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/sealed"
	"github.com/sealpost/sealpost/gateway/store"
)

// Defaults and limits.
const (
	DefaultLinkTTL   = 72 * time.Hour
	MaxLinkTTL       = 30 * 24 * time.Hour
	MinLinkTTL       = 10 * time.Minute
	CodeTTL          = 10 * time.Minute
	CodeResendAfter  = time.Minute
	MaxFailures      = 5
	SessionIdle      = 15 * time.Minute
	SessionMax       = time.Hour
	MaxPayloadBytes  = 64 << 10
	SecretSize       = 32
	URLVariable      = "portal_url"
	CodeTemplateName = "sealpost-portal-code"
)

// Knowledge is an optional second factor the sender supplies.
type Knowledge struct {
	Kind   string `json:"type"` // "dob" or "zip"
	Answer string `json:"answer"`
}

// Service creates links and serves the portal.
type Service struct {
	db       *store.DB
	kek      sealed.KeyEncrypter
	secret   []byte
	baseURL  string
	logger   *slog.Logger
	now      func() time.Time
	sendCode func(ctx context.Context, linkMessageID, code string) error
	// slow bounds concurrent argon2id hashes, each of which holds ~46 MiB.
	slow    chan struct{}
	onEvent func(ctx context.Context, kind, messageID, remoteAddr string)
}

// maxConcurrentKnowledgeHashes bounds the memory knowledge checks can take.
const maxConcurrentKnowledgeHashes = 4

// Config wires a Service.
type Config struct {
	DB      *store.DB
	KEK     sealed.KeyEncrypter
	Secret  []byte // SecretSize bytes; keys link tokens and code hashes
	BaseURL string // public base URL, e.g. https://mail.shop.example
	Logger  *slog.Logger
	// SendCode mails a one-time code to the recipient of the message whose
	// payload the link guards.
	SendCode func(ctx context.Context, linkMessageID, code string) error
	// OnEvent, when set, is told of every portal event (metrics, audit).
	OnEvent func(ctx context.Context, kind, messageID, remoteAddr string)
}

// New returns a Service.
func New(cfg Config) (*Service, error) {
	if len(cfg.Secret) < SecretSize {
		return nil, errors.New("portal: secret too short")
	}
	if cfg.KEK == nil {
		return nil, errors.New("portal: no master key")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Service{db: cfg.DB, kek: cfg.KEK, secret: cfg.Secret,
		baseURL: strings.TrimRight(cfg.BaseURL, "/"), logger: cfg.Logger, now: time.Now,
		sendCode: cfg.SendCode, slow: make(chan struct{}, maxConcurrentKnowledgeHashes),
		onEvent: cfg.OnEvent}, nil
}

// SetBaseURL sets the public base of portal links (dev mode learns it once
// its listener is bound).
func (s *Service) SetBaseURL(u string) { s.baseURL = strings.TrimRight(u, "/") }

// LoadOrCreateSecret reads the portal secret file, creating it (0600) with
// fresh random bytes when it does not exist.
func LoadOrCreateSecret(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		secret := make([]byte, SecretSize)
		_, _ = rand.Read(secret)
		enc := []byte(hex.EncodeToString(secret) + "\n")
		if err := os.WriteFile(path, enc, 0o600); err != nil {
			return nil, fmt.Errorf("write portal secret: %w", err)
		}
		return secret, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read portal secret: %w", err)
	}
	if fi, err := os.Stat(path); err == nil && fi.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("portal secret %s is readable by other users; chmod 600 it", path)
	}
	secret, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil || len(secret) < SecretSize {
		return nil, fmt.Errorf("portal secret %s must hold %d hex-encoded bytes", path, SecretSize)
	}
	return secret, nil
}

// token derives the link token of a message.
func (s *Service) token(messageID string) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("sealpost portal link v1\x00"))
	m.Write([]byte(messageID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// URL returns the portal link of a message. It holds no PHI: only the
// opaque token.
func (s *Service) URL(messageID string) string {
	return s.baseURL + "/p/" + s.token(messageID)
}

// Prepared is a sealed payload and its link, ready to store with the
// message. Preparing (sealing, and the deliberately slow knowledge hash)
// happens before the message's transaction opens, so that it holds no lock
// while hashing.
type Prepared struct {
	payload *store.Payload
	link    *store.PortalLink
}

// Prepare seals payload for messageID and builds its portal link. ttl 0
// means DefaultLinkTTL.
func (s *Service) Prepare(ctx context.Context, messageID string, payload json.RawMessage,
	ttl time.Duration, k *Knowledge,
) (*Prepared, error) {
	if ttl == 0 {
		ttl = DefaultLinkTTL
	}
	now := s.now().UTC()
	expires := now.Add(ttl)
	box, err := sealed.Seal(ctx, s.kek, messageID, payload)
	if err != nil {
		return nil, fmt.Errorf("seal payload: %w", err)
	}
	p := &Prepared{
		payload: &store.Payload{MessageID: messageID, KeyID: box.KeyID, WrappedKey: box.WrappedKey,
			Nonce: box.Nonce, Ciphertext: box.Ciphertext, ExpiresAt: expires},
		link: &store.PortalLink{
			TokenHash: sealed.HashToken(s.token(messageID)),
			MessageID: messageID,
			ExpiresAt: expires,
			CreatedAt: now,
		},
	}
	if k != nil {
		release, err := s.acquireSlow(ctx)
		if err != nil {
			return nil, err
		}
		h, err := sealed.HashKnowledge(k.Answer)
		release()
		if err != nil {
			return nil, fmt.Errorf("hash knowledge check: %w", err)
		}
		p.link.KnowledgeKind, p.link.KnowledgeHash = k.Kind, h
	}
	return p, nil
}

// acquireSlow waits for a slot to run an argon2id hash.
func (s *Service) acquireSlow(ctx context.Context) (func(), error) {
	select {
	case s.slow <- struct{}{}:
		return func() { <-s.slow }, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// Store writes the prepared payload and link inside tx, the transaction
// that stores the message.
func (p *Prepared) Store(ctx context.Context, tx *store.Tx) error {
	if err := tx.InsertPayload(ctx, p.payload); err != nil {
		return err
	}
	return tx.InsertPortalLink(ctx, p.link)
}

// Fingerprint returns a keyed hash of a payload, for comparing idempotent
// requests without keeping an unkeyed hash of sensitive content.
func (s *Service) Fingerprint(payload []byte) string {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("sealpost payload fingerprint v1\x00"))
	m.Write(payload)
	return hex.EncodeToString(m.Sum(nil))
}

// RotateMaster re-wraps every payload's data key under the current master
// key without decrypting any payload, and returns how many it re-wrapped.
func (s *Service) RotateMaster(ctx context.Context) (int, error) {
	current := s.kek.KeyID()
	total := 0
	for {
		keys, err := s.db.ListPayloadKeysNotUnder(ctx, current, 100)
		if err != nil {
			return total, err
		}
		if len(keys) == 0 {
			return total, nil
		}
		for _, k := range keys {
			box, err := sealed.Rewrap(
				ctx,
				s.kek,
				&sealed.Sealed{KeyID: k.KeyID, WrappedKey: k.WrappedKey,
					Nonce: k.Nonce, Ciphertext: k.Ciphertext},
			)
			if err != nil {
				return total, fmt.Errorf("rewrap payload key: %w", err)
			}
			if err := s.db.RewrapPayload(ctx, k.MessageID, k.KeyID, box.KeyID, box.WrappedKey); err != nil {
				return total, err
			}
			total++
		}
	}
}

// Purge deletes expired payloads, links and sessions.
func (s *Service) Purge(ctx context.Context) (int64, error) {
	return s.db.PurgeExpired(ctx, s.now(), SessionIdle)
}

func newID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (s *Service) record(ctx context.Context, messageID, kind, remote string) {
	err := s.db.InsertPortalEvent(context.WithoutCancel(ctx), &store.PortalEvent{ID: newID(),
		MessageID: messageID, Kind: kind, RemoteAddr: clientaddr.Truncate(remote), CreatedAt: s.now()})
	if err != nil {
		s.logger.Error("portal event not recorded", "kind", kind, "err", err)
	}
	s.logger.Info("portal event", "kind", kind, "message_id", messageID)
	if s.onEvent != nil {
		s.onEvent(ctx, kind, messageID, remote)
	}
}
