package sealed

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
)

const (
	// TokenBytes is the randomness in a portal link token: 256 bits.
	TokenBytes = 32

	// TokenLen is the length of a token as text: 43 characters of
	// unpadded URL-safe base64 (RFC 4648 §5).
	TokenLen = 43
)

// NewToken returns a fresh portal link token and the SHA-256 hash to store
// in its place. The token is 256 random bits in unpadded URL-safe base64, so
// it can sit in a URL path unescaped. A plain hash is enough: the token cannot
// be guessed, so a database dump yields no usable link.
func NewToken() (token string, hash []byte) {
	var b [TokenBytes]byte
	_, _ = rand.Read(b[:])
	token = base64.RawURLEncoding.EncodeToString(b[:])
	return token, HashToken(token)
}

// HashToken returns the SHA-256 of a token as presented, to look its link
// up by hash.
func HashToken(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// WellFormedToken reports whether token has the shape NewToken produces. A
// caller can refuse a malformed token before any lookup.
func WellFormedToken(token string) bool {
	if len(token) != TokenLen {
		return false
	}
	_, err := base64.RawURLEncoding.Strict().DecodeString(token)
	return err == nil
}

// EqualHash compares two hashes (of tokens or codes) in time that does not
// depend on where they differ. Hashes of different lengths are unequal.
func EqualHash(a, b []byte) bool {
	return len(a) > 0 && subtle.ConstantTimeCompare(a, b) == 1
}
