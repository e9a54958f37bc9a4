package mime

import (
	"crypto/rand"
	"encoding/hex"
)

// NewMessageID returns a Message-ID for domain, without angle brackets: 128
// random bits in lower-case hex, "@", then domain. Pass the sending domain as
// ASCII (an A-label for an IDN); [Message.Bytes] refuses a malformed id.
// A message keeps its id across delivery attempts, so call this once, when
// the message is created.
func NewMessageID(domain string) string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read

	return hex.EncodeToString(b[:]) + "@" + domain
}

// newBoundary returns a random multipart boundary. It starts with "=_",
// which quoted-printable output cannot contain: there "=" is always followed
// by two hex digits or a line break. So no encoded part can ever hold a line
// that looks like our delimiter (RFC 2046 §5.1.1). The rest is 128 random
// bits in hex, well within the 70-character limit.
func newBoundary() string {
	var b [16]byte
	_, _ = rand.Read(b[:]) // never fails; see crypto/rand.Read

	return "=_" + hex.EncodeToString(b[:])
}
