package sealed

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
)

const (
	// CodeDigits is the length of a one-time code. Six digits are easy to
	// type from a phone; they are safe only together with the portal's
	// attempt limit and the code's short life, which the portal enforces.
	CodeDigits = 6

	// codeSpace is 10^CodeDigits, the number of distinct codes.
	codeSpace = 1_000_000

	// CodeSecretSize is the minimum length of the server secret that keys
	// code hashes: 256 bits.
	CodeSecretSize = 32

	// codeLabel separates code hashes from any other use of the secret.
	codeLabel = "sealpost one-time code v1\x00"
)

// codeLimit is the largest multiple of codeSpace that fits in 32 bits;
// random words at or above it are drawn again, so every code is equally
// likely (no modulo bias).
const codeLimit = (1 << 32) / codeSpace * codeSpace

// NewCode returns a fresh one-time code of CodeDigits decimal digits, drawn
// uniformly, and its hash under secret bound to the portal link token (see
// CodeHash). Only the hash is stored.
//
// Unlike a token, six digits are found by brute force from an unkeyed hash in
// a moment, so the hash is an HMAC under a server secret that never sits in
// the database.
func NewCode(secret []byte, token string) (code string, hash []byte) {
	code = newCodeDigits()
	return code, CodeHash(secret, token, code)
}

// CodeHash returns HMAC-SHA256 under secret of the code bound to the portal
// link token, so a code issued for one link never verifies for another.
func CodeHash(secret []byte, token, code string) []byte {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(codeLabel))
	m.Write([]byte(token))
	m.Write([]byte{0})
	m.Write([]byte(code))
	return m.Sum(nil)
}

// VerifyCode reports whether the code a person typed matches the stored
// hash for token. Spaces and hyphens in the typed code are ignored ("123 456"
// and "123-456" both match "123456"); anything else but CodeDigits digits
// never matches. The comparison takes constant time.
func VerifyCode(secret []byte, token, typed string, stored []byte) bool {
	code := strings.Map(func(r rune) rune {
		if r == ' ' || r == '-' {
			return -1
		}
		return r
	}, strings.TrimSpace(typed))
	if !wellFormedCode(code) {
		return false
	}
	return EqualHash(CodeHash(secret, token, code), stored)
}

// CheckCodeSecret reports whether secret is long enough to key code hashes.
func CheckCodeSecret(secret []byte) error {
	if len(secret) < CodeSecretSize {
		return fmt.Errorf("need %d bytes: %w", CodeSecretSize, ErrWeakSecret)
	}
	return nil
}

func newCodeDigits() string {
	var b [4]byte
	for {
		_, _ = rand.Read(b[:])
		if n := binary.BigEndian.Uint32(b[:]); n < codeLimit {
			return fmt.Sprintf("%0*d", CodeDigits, n%codeSpace)
		}
	}
}

func wellFormedCode(code string) bool {
	if len(code) != CodeDigits {
		return false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
