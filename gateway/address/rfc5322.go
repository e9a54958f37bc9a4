package address

import (
	"mime"
	"strings"
	"unicode"
)

// The RFC 5322 token tests below are shared with the mime package, which
// writes the same phrases into headers.

// DecodesToControl reports whether s holds RFC 2047 encoded words that a
// reader would decode into a control character, such as an encoded CR LF.
func DecodesToControl(s string) bool {
	if !strings.Contains(s, "=?") {
		return false
	}

	decoded, err := new(mime.WordDecoder).DecodeHeader(s)
	if err != nil {
		return false
	}

	return strings.ContainsFunc(decoded, unicode.IsControl)
}

// IsAtomPhrase reports whether s is atoms separated by single spaces, so it
// can stand in a header as an unquoted phrase (RFC 5322 §3.2.5).
func IsAtomPhrase(s string) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "  ") {
		return false
	}

	for i := 0; i < len(s); i++ {
		if s[i] != ' ' && !IsAtext(s[i]) {
			return false
		}
	}

	return true
}

// IsAtext reports whether c is atext (RFC 5322 §3.2.3).
func IsAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}

	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
