package bounce

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"fmt"
	"log/slog"
	"strings"

	"github.com/google/uuid"
)

const (
	// MaxLocalPart is the longest local part RFC 5321 §4.5.3.1.1 allows;
	// VERP addresses never exceed it.
	MaxLocalPart = 64

	// MinSecretBytes is the shortest VERP secret accepted.
	MinSecretBytes = 16

	// MaxPrefix is the longest VERP prefix: with the plus sign and a
	// 44-character UUID token it fills MaxLocalPart exactly.
	MaxPrefix = 19

	// tagBytes is the truncated HMAC-SHA256 length in a token: 80 bits,
	// far beyond what an attacker can guess over SMTP.
	tagBytes = 10

	// Payload type bytes: a UUID packed into 16 bytes, or the id's raw
	// bytes for anything else.
	payloadUUID = 1
	payloadRaw  = 0

	// verpContext separates VERP tags from any other use of the secret.
	verpContext = "sealpost verp v1"
)

// tokenEncoding is lower-case base32 without padding: safe in a local part
// and unchanged by MTAs that fold the local part to lower case.
var tokenEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").
	WithPadding(base32.NoPadding)

// VERP builds and checks variable envelope return paths
// Prefix+token@Domain. The zero value is unusable; see Validate.
type VERP struct {
	// Prefix is the fixed local part before the plus sign, e.g. "bounces".
	Prefix string
	// Domain is the return-path domain whose MX points at the Server.
	Domain string
	// Secret keys the HMAC; at least MinSecretBytes bytes.
	Secret []byte
}

// Validate reports whether v can build addresses.
func (v VERP) Validate() error {
	if len(v.Secret) < MinSecretBytes {
		return fmt.Errorf("secret shorter than %d bytes: %w", MinSecretBytes, ErrInvalidVERP)
	}
	if !validPrefix(v.Prefix) {
		return fmt.Errorf("prefix: %w", ErrInvalidVERP)
	}
	if !validDomain(strings.ToLower(v.Domain)) {
		return fmt.Errorf("domain: %w", ErrInvalidVERP)
	}
	return nil
}

// Address returns the envelope sender for messageID. It returns "" when v
// is invalid or when the id cannot fit a local part of MaxLocalPart
// octets; a caller must treat "" as an error, never as the null sender.
// A canonical UUID (as issued for messages) always fits; other ids fit up
// to 24 octets with a 7-octet prefix.
func (v VERP) Address(messageID string) string {
	if v.Validate() != nil || messageID == "" {
		return ""
	}
	payload := packID(messageID)
	if payload == nil {
		return ""
	}
	token := tokenEncoding.EncodeToString(append(payload, v.tag(payload)...))
	local := strings.ToLower(v.Prefix) + "+" + token
	if len(local) > MaxLocalPart {
		return ""
	}
	return local + "@" + strings.ToLower(v.Domain)
}

// MessageID parses rcpt (with or without angle brackets, any letter case)
// and returns the message id its token carries. It returns false for any
// address that is not one v built: other domain or prefix, a token that
// does not decode canonically, or a tag that does not verify.
func (v VERP) MessageID(rcpt string) (string, bool) {
	if v.Validate() != nil {
		return "", false
	}
	addr := strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(rcpt, "<"), ">"))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || addr[at+1:] != strings.ToLower(v.Domain) {
		return "", false
	}
	token, ok := strings.CutPrefix(addr[:at], strings.ToLower(v.Prefix)+"+")
	if !ok || len(addr[:at]) > MaxLocalPart {
		return "", false
	}
	raw, err := tokenEncoding.DecodeString(token)
	if err != nil || tokenEncoding.EncodeToString(raw) != token || len(raw) <= tagBytes+1 {
		return "", false
	}
	payload, tag := raw[:len(raw)-tagBytes], raw[len(raw)-tagBytes:]
	if !hmac.Equal(tag, v.tag(payload)) {
		return "", false
	}
	return unpackID(payload)
}

// LogValue keeps the secret out of logs.
func (v VERP) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("prefix", v.Prefix),
		slog.String("domain", v.Domain),
		slog.Bool("secret_set", len(v.Secret) > 0),
	)
}

// tag is the truncated HMAC over the payload, bound to prefix and domain so
// a token is worth nothing under another return path.
func (v VERP) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, v.Secret)
	m.Write([]byte(verpContext))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(v.Prefix)))
	m.Write([]byte{0})
	m.Write([]byte(strings.ToLower(v.Domain)))
	m.Write([]byte{0})
	m.Write(payload)
	return m.Sum(nil)[:tagBytes]
}

// packID encodes a message id: a canonical UUID as its 16 bytes, anything
// else of printable ASCII as itself. It returns nil for other ids.
func packID(id string) []byte {
	if u, err := uuid.Parse(id); err == nil && u.String() == id {
		return append([]byte{payloadUUID}, u[:]...)
	}
	if !printableASCII(id) {
		return nil
	}
	return append([]byte{payloadRaw}, id...)
}

func unpackID(payload []byte) (string, bool) {
	switch payload[0] {
	case payloadUUID:
		u, err := uuid.FromBytes(payload[1:])
		if err != nil {
			return "", false
		}
		return u.String(), true
	case payloadRaw:
		id := string(payload[1:])
		if id == "" || !printableASCII(id) {
			return "", false
		}
		return id, true
	}
	return "", false
}

// validPrefix accepts a dot-atom local part (RFC 5321 §4.1.2) without the
// plus sign that separates it from the token.
func validPrefix(p string) bool {
	if p == "" || len(p) > MaxPrefix || p[0] == '.' || p[len(p)-1] == '.' {
		return false
	}
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case c == '.' && p[i-1] != '.':
		case strings.IndexByte("-_=", c) >= 0:
		default:
			return false
		}
	}
	return true
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return true
}
