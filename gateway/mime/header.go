package mime

import (
	"bytes"
	"encoding/base64"
	"strings"
	"unicode/utf8"
)

// Header line limits.
const (
	// maxLineOctets is the hard limit on any line, without CRLF (RFC 5322
	// §2.1.1, RFC 5321 §4.5.3.1.6).
	maxLineOctets = 998
	// foldTarget is the line length header folding aims for, without CRLF
	// (RFC 5322 §2.1.1 "SHOULD be no more than 78").
	foldTarget = 78
	// maxEncodedWord is the longest RFC 2047 encoded word (RFC 2047 §2).
	maxEncodedWord = 75
)

// Encoded-word framing. Each word carries its own charset and encoding, so
// words can be folded apart and decoded one by one.
const (
	qPrefix     = "=?UTF-8?Q?"
	bPrefix     = "=?UTF-8?B?"
	wordSuffix  = "?="
	wordFraming = len(qPrefix) + len(wordSuffix)

	// minWordRoom is the least room worth starting an encoded word in: the
	// framing plus one four-byte character in Q form ("=F0=9F=99=82").
	minWordRoom = wordFraming + 12
)

// headerWriter writes one header field at a time, folding between tokens.
// Tokens are always separated by exactly one space, and folding turns that
// space into CRLF + space, so unfolding (RFC 5322 §2.2.3) restores the
// field exactly and no folded line is ever whitespace only.
type headerWriter struct {
	buf     *bytes.Buffer
	lineLen int  // octets on the current line
	bare    bool // the current line holds only the field name
	err     error
}

// open starts a field. The caller has validated name.
func (h *headerWriter) open(name string) {
	h.buf.WriteString(name)
	h.buf.WriteByte(':')
	h.lineLen = len(name) + 1
	h.bare = true
}

// token appends one token, folding first if it would take the line past
// the fold target. A token too long for even a line of its own is recorded
// as an error for field.
func (h *headerWriter) token(field, tok string) {
	if !h.bare && h.lineLen+1+len(tok) > foldTarget {
		h.buf.WriteString("\r\n")
		h.lineLen = 0
	}

	if h.lineLen+1+len(tok) > maxLineOctets && h.err == nil {
		h.err = invalidField(field, "has a run too long to fold within 998 octets")
	}

	h.buf.WriteByte(' ')
	h.buf.WriteString(tok)
	h.lineLen += 1 + len(tok)
	h.bare = false
}

// close ends the field.
func (h *headerWriter) close() {
	h.buf.WriteString("\r\n")
}

// foldable appends s as tokens split at the spaces where folding is safe.
func (h *headerWriter) foldable(field, s string) {
	for s != "" {
		tok, rest := nextFoldable(s)
		h.token(field, tok)
		s = rest
	}
}

// nextFoldable splits s at its first single space that has a non-blank
// character on either side. Folding only there keeps runs of blanks and
// leading or trailing blanks intact even for readers, such as Go's
// net/textproto, that collapse the whitespace around a fold.
func nextFoldable(s string) (tok, rest string) {
	for i := 1; i+1 < len(s); i++ {
		if s[i] == ' ' && !isBlank(s[i-1]) && !isBlank(s[i+1]) {
			return s[:i], s[i+1:]
		}
	}

	return s, ""
}

// encodedWords appends s as RFC 2047 encoded words, each within 75
// characters and within the fold target where the line allows, never
// splitting a UTF-8 sequence. Each word uses Q or B, whichever carries
// more of s in the room available.
func (h *headerWriter) encodedWords(s string) {
	for s != "" {
		room := foldTarget - h.lineLen - 1
		if room < minWordRoom && !h.bare {
			h.buf.WriteString("\r\n")
			h.lineLen = 0
			room = foldTarget - 1
		}
		room = max(min(room, maxEncodedWord), minWordRoom)

		n, useB := nextWord(s, room-wordFraming)
		h.writeWord(s[:n], useB)
		s = s[n:]
	}
}

// nextWord returns how many bytes of s the next encoded word should carry,
// given room characters of encoded text, and whether B beats Q for them.
// On a tie Q wins, being readable.
func nextWord(s string, room int) (n int, useB bool) {
	qLen, qn, bn := 0, 0, 0
	for i := 0; i < len(s); {
		_, size := utf8.DecodeRuneInString(s[i:])
		next := i + size

		if qn == i {
			w := 0
			for j := i; j < next; j++ {
				w += qByteLen(s[j])
			}
			if qLen+w <= room {
				qLen += w
				qn = next
			}
		}

		if (next+2)/3*4 <= room {
			bn = next
		}

		if qn < next && bn < next {
			break
		}
		i = next
	}

	if bn > qn {
		return bn, true
	}

	return qn, false
}

// writeWord writes s as a single encoded word; the caller sized it.
func (h *headerWriter) writeWord(s string, useB bool) {
	h.buf.WriteByte(' ')
	h.lineLen++
	h.bare = false

	start := h.buf.Len()
	if useB {
		h.buf.WriteString(bPrefix)
		enc := base64.StdEncoding
		h.buf.Write(enc.AppendEncode(h.buf.AvailableBuffer(), []byte(s)))
	} else {
		h.buf.WriteString(qPrefix)
		for i := 0; i < len(s); i++ {
			c := s[i]
			switch {
			case c == ' ':
				h.buf.WriteByte('_')
			case qByteLen(c) == 1:
				h.buf.WriteByte(c)
			default:
				h.buf.WriteByte('=')
				h.buf.WriteByte(upperHex[c>>4])
				h.buf.WriteByte(upperHex[c&0x0f])
			}
		}
	}
	h.buf.WriteString(wordSuffix)
	h.lineLen += h.buf.Len() - start
}

// qByteLen is the Q-encoded length of c. Only the characters RFC 2047 §5
// rule 3 allows in a phrase are left literal, so the same words are safe in
// a subject and in a display name.
func qByteLen(c byte) int {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return 1
	case c == ' ', c == '!', c == '*', c == '+', c == '-', c == '/':
		return 1
	}

	return 3
}

// plainFits reports whether s can be written as plain unstructured text
// after a field name of nameLen octets: printable ASCII with single spaces
// between non-blank runs, no "=?" that a reader could take for an encoded
// word, and every run short enough to fold within the fold target.
func plainFits(s string, nameLen int) bool {
	if s == "" || s[0] == ' ' || s[len(s)-1] == ' ' || strings.Contains(s, "=?") {
		return false
	}

	if strings.Contains(s, "  ") {
		return false
	}

	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}

	room := foldTarget - nameLen - 2 // ": "
	for s != "" {
		var tok string
		tok, s = nextFoldable(s)
		if len(tok) > room {
			return false
		}
		room = foldTarget - 1
	}

	return true
}

func isBlank(c byte) bool {
	return c == ' ' || c == '\t'
}
