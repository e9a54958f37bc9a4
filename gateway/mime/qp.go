package mime

import (
	"bytes"
	"strings"
)

// maxQPLine is the longest encoded line, not counting CRLF (RFC 2045 §6.7
// rule 5).
const maxQPLine = 76

const upperHex = "0123456789ABCDEF"

// writeQuotedPrintable appends s to buf as quoted-printable (RFC 2045 §6.7)
// with hard line breaks wherever s has a CRLF, a bare CR or a bare LF, so the
// encoded text has CRLF line ends only and decodes to s with every line break
// made CRLF.
//
// Beyond RFC 2045 the encoder guarantees:
//   - every line is at most 76 characters and a soft break never splits an
//     "=XX" triplet;
//   - a line never starts with "." (encoded as "=2E"), so no body line can
//     be read as, or need stuffing against, the SMTP end-of-data marker;
//   - a line never starts with "From " (its "F" is encoded), so mbox-style
//     "From " escaping on the way cannot alter the body and its DKIM hash;
//   - "=" is only ever followed by two upper-case hex digits or CRLF, so the
//     output never contains "=_", the first two characters of our multipart
//     boundaries.
//
// With softEnd set and s not ending in a line break, a final soft line break
// is added so that the encoded text ends in CRLF without adding a line break
// to the decoded text.
func writeQuotedPrintable(buf *bytes.Buffer, s string, softEnd bool) {
	lineLen := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '\r' || c == '\n' {
			if c == '\r' && i+1 < len(s) && s[i+1] == '\n' {
				i++
			}
			buf.WriteString("\r\n")
			lineLen = 0

			continue
		}

		end := i+1 == len(s)
		lineEnd := end || s[i+1] == '\r' || s[i+1] == '\n'

		// A line that stays open for a soft break keeps one column for
		// the "="; only the last character before a hard break, or the
		// end of a part, may use column 76.
		limit := maxQPLine
		if !lineEnd || end && softEnd {
			limit--
		}

		n := encodedLen(s, i, lineLen == 0, lineEnd)
		if lineLen+n > limit {
			buf.WriteString("=\r\n")
			lineLen = 0
			n = encodedLen(s, i, true, lineEnd)
		}

		if n == 1 {
			buf.WriteByte(c)
		} else {
			buf.WriteByte('=')
			buf.WriteByte(upperHex[c>>4])
			buf.WriteByte(upperHex[c&0x0f])
		}
		lineLen += n
	}

	if softEnd && lineLen > 0 {
		buf.WriteString("=\r\n")
	}
}

// encodedLen returns 1 when s[i] may be written literally and 3 when it must
// be written as "=XX", given whether it would open an encoded line and
// whether it is the last character before a hard line break.
func encodedLen(s string, i int, lineStart, lineEnd bool) int {
	c := s[i]
	switch {
	case c == '=', c > '~':
		return 3
	case c == ' ' || c == '\t':
		if lineEnd {
			return 3 // RFC 2045 §6.7 rule 3: no trailing whitespace
		}

		return 1
	case c < ' ':
		return 3
	case lineStart && (c == '.' || c == 'F' && strings.HasPrefix(s[i:], "From ")):
		return 3
	}

	return 1
}

// quotedPrintableSize estimates the encoded size of s (exact but for
// encoded line-leading dots), so the output buffer is grown only once.
func quotedPrintableSize(s string) int {
	n := len(s)
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '=' || c > '~' || c < ' ' {
			n += 2
		}
	}

	return n + n/(maxQPLine-1)*3 + 3
}
