// Package apikey creates, parses and checks API keys and names the roles
// they carry. A key reads sp_<id>_<secret>: the id is public and finds the
// row; only a SHA-256 of the 256-bit random secret is stored, so a database
// dump yields no usable key. A slow hash is not needed for a secret that
// cannot be guessed.
package apikey

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
)

// Role is what a key may do.
type Role string

// The roles. Admin manages templates and keys; it does not imply the others.
const (
	Sender     Role = "sender"
	Marketer   Role = "marketer"
	Compliance Role = "compliance"
	Admin      Role = "admin"
)

// Roles lists every role.
var Roles = []Role{Sender, Marketer, Compliance, Admin}

// ParseRoles reads a comma-separated role list.
func ParseRoles(s string) ([]Role, error) {
	var out []Role
	for part := range strings.SplitSeq(s, ",") {
		r := Role(strings.TrimSpace(part))
		if !slices.Contains(Roles, r) {
			return nil, fmt.Errorf("unknown role; roles are sender, marketer, compliance, admin")
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	if len(out) == 0 {
		return nil, errors.New("at least one role is needed")
	}
	return out, nil
}

const (
	prefix    = "sp_"
	idBytes   = 6
	secretLen = 32
)

var (
	// ErrMalformed means the presented string is not shaped like a key.
	ErrMalformed = errors.New("malformed api key")
	// ErrInvalid means the key does not exist, does not match, or is revoked.
	ErrInvalid = errors.New("invalid api key")
)

// Create stores a new key with name and roles and returns the key text,
// which is shown once and never again.
func Create(
	ctx context.Context,
	db *store.DB,
	name string,
	roles []Role,
) (string, *store.APIKey, error) {
	if name == "" || len(name) > 100 || strings.ContainsAny(name, "\r\n\x00") {
		return "", nil, errors.New("key name must be 1 to 100 characters on one line")
	}
	var idRaw [idBytes]byte
	var secret [secretLen]byte
	if _, err := rand.Read(idRaw[:]); err != nil {
		return "", nil, err
	}
	if _, err := rand.Read(secret[:]); err != nil {
		return "", nil, err
	}
	id := hex.EncodeToString(idRaw[:])
	secretText := base64.RawURLEncoding.EncodeToString(secret[:])
	sum := sha256.Sum256([]byte(secretText))

	k := &store.APIKey{ID: id, Name: name, SecretHash: sum[:], CreatedAt: time.Now().UTC()}
	for _, r := range roles {
		k.Roles = append(k.Roles, string(r))
	}
	if err := db.InsertAPIKey(ctx, k); err != nil {
		return "", nil, err
	}
	return prefix + id + "_" + secretText, k, nil
}

// split returns the id and secret parts of a key text.
func split(text string) (id, secret string, err error) {
	rest, ok := strings.CutPrefix(text, prefix)
	if !ok {
		return "", "", ErrMalformed
	}
	id, secret, ok = strings.Cut(rest, "_")
	if !ok || len(id) != 2*idBytes || len(secret) != base64.RawURLEncoding.EncodedLen(secretLen) {
		return "", "", ErrMalformed
	}
	if _, err := hex.DecodeString(id); err != nil {
		return "", "", ErrMalformed
	}
	return id, secret, nil
}

// Principal is an authenticated key.
type Principal struct {
	KeyID string
	Name  string
	Roles []Role
}

// Has reports whether the principal holds any of roles.
func (p *Principal) Has(roles ...Role) bool {
	for _, r := range roles {
		if slices.Contains(p.Roles, r) {
			return true
		}
	}
	return false
}

// Authenticator checks presented keys against the store, caching good keys
// for CacheTTL so that the hot path does not read the database on every
// request. A revocation through Forget takes effect at once in this process
// and within CacheTTL in others.
type Authenticator struct {
	db  *store.DB
	mu  sync.Mutex
	hit map[string]cached
}

// CacheTTL bounds how long a revoked key can still work in another process.
const CacheTTL = 2 * time.Second

type cached struct {
	hash    [sha256.Size]byte
	p       *Principal
	expires time.Time
}

// NewAuthenticator checks keys against db.
func NewAuthenticator(db *store.DB) *Authenticator {
	return &Authenticator{db: db, hit: map[string]cached{}}
}

// Authenticate returns the principal for key text, or ErrMalformed or
// ErrInvalid.
func (a *Authenticator) Authenticate(ctx context.Context, text string) (*Principal, error) {
	id, secret, err := split(text)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(secret))

	a.mu.Lock()
	c, ok := a.hit[id]
	a.mu.Unlock()
	if ok && time.Now().Before(c.expires) {
		if subtle.ConstantTimeCompare(c.hash[:], sum[:]) == 1 {
			return c.p, nil
		}
		return nil, ErrInvalid
	}

	k, err := a.db.GetAPIKey(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, ErrInvalid
	}
	if err != nil {
		return nil, err
	}
	if k.RevokedAt != nil || subtle.ConstantTimeCompare(k.SecretHash, sum[:]) != 1 {
		return nil, ErrInvalid
	}
	p := &Principal{KeyID: k.ID, Name: k.Name}
	for _, r := range k.Roles {
		p.Roles = append(p.Roles, Role(r))
	}
	a.mu.Lock()
	if len(a.hit) > 10000 {
		clear(a.hit)
	}
	a.hit[id] = cached{hash: sum, p: p, expires: time.Now().Add(CacheTTL)}
	a.mu.Unlock()
	return p, nil
}

// Forget drops a key from the cache, after revoking it.
func (a *Authenticator) Forget(id string) {
	a.mu.Lock()
	delete(a.hit, id)
	a.mu.Unlock()
}
