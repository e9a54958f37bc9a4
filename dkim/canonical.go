package dkim

import (
	"bytes"
	"io"
)

var crlf = []byte("\r\n")

// field is one header field of a message: its name with surrounding
// whitespace removed and its raw bytes, continuation lines and the final
// CRLF included.
type field struct {
	name []byte
	raw  []byte
}

// checkLineBreaks reports whether every CR and LF in msg belongs to a CRLF
// pair.
func checkLineBreaks(msg []byte) bool {
	for i := 0; ; i++ {
		n := bytes.IndexByte(msg[i:], '\n')
		if n < 0 {
			break
		}
		i += n
		if i == 0 || msg[i-1] != '\r' {
			return false
		}
	}
	for i := 0; ; i++ {
		n := bytes.IndexByte(msg[i:], '\r')
		if n < 0 {
			return true
		}
		i += n
		if i+1 == len(msg) || msg[i+1] != '\n' {
			return false
		}
	}
}

// splitMessage splits msg at the empty line that ends the header block
// (RFC 5322 section 2.1). The header keeps its last CRLF. A message without
// a body must still end in CRLF.
func splitMessage(msg []byte) (header, body []byte, err error) {
	if bytes.HasPrefix(msg, crlf) {
		return nil, msg[len(crlf):], nil
	}
	if i := bytes.Index(msg, []byte("\r\n\r\n")); i >= 0 {
		return msg[:i+len(crlf)], msg[i+2*len(crlf):], nil
	}
	if bytes.HasSuffix(msg, crlf) {
		return msg, nil, nil
	}
	return nil, nil, ErrMalformedMessage
}

// parseHeader splits a header block into fields without copying it.
func parseHeader(header []byte) ([]field, error) {
	var fields []field
	for len(header) > 0 {
		end := bytes.Index(header, crlf)
		if end < 0 {
			return nil, ErrMalformedMessage
		}
		end += len(crlf)
		line := header[:end]
		header = header[end:]

		if line[0] == ' ' || line[0] == '\t' {
			if len(fields) == 0 {
				return nil, ErrMalformedMessage
			}
			f := &fields[len(fields)-1]
			f.raw = f.raw[:len(f.raw)+len(line)]
			continue
		}

		colon := bytes.IndexByte(line, ':')
		if colon < 0 {
			return nil, ErrMalformedMessage
		}
		name := bytes.TrimRight(line[:colon], " \t")
		if !validFieldName(name) {
			return nil, ErrMalformedMessage
		}
		fields = append(fields, field{name: name, raw: line})
	}
	return fields, nil
}

// validFieldName reports whether name is a non-empty run of printable
// US-ASCII other than colon (RFC 5322 section 3.6.8, ftext).
func validFieldName(name []byte) bool {
	if len(name) == 0 {
		return false
	}
	for _, c := range name {
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// isWSP reports whether c is whitespace as relaxed canonicalization sees
// it inside a header field: SP, HTAB, or the CR and LF of a fold.
func isWSP(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// appendRelaxedHeader appends the relaxed canonical form of one raw header
// field (RFC 6376 section 3.4.2): lower-case name, unfolded value with
// whitespace runs reduced to one space and trimmed at both ends, no space
// around the colon, and a final CRLF unless omitCRLF is set.
func appendRelaxedHeader(dst, raw []byte, omitCRLF bool) []byte {
	colon := bytes.IndexByte(raw, ':')
	for _, c := range bytes.TrimRight(raw[:colon], " \t") {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		dst = append(dst, c)
	}
	dst = append(dst, ':')

	space, started := false, false
	for _, c := range raw[colon+1:] {
		if isWSP(c) {
			space = true
			continue
		}
		if space && started {
			dst = append(dst, ' ')
		}
		space, started = false, true
		dst = append(dst, c)
	}

	if omitCRLF {
		return dst
	}
	return append(dst, crlf...)
}

// writeRelaxedBody writes the relaxed canonical form of body (RFC 6376
// section 3.4.4) to w, normally a hash: trailing whitespace removed from
// each line, inner whitespace runs reduced to one space, empty lines at the
// end dropped, and a final CRLF if anything is left. Unchanged stretches of
// the body are written straight from the input, without copying.
func writeRelaxedBody(w io.Writer, body []byte) {
	pendingEmpty := 0
	for len(body) > 0 {
		var line []byte
		if i := bytes.Index(body, crlf); i >= 0 {
			line, body = body[:i], body[i+len(crlf):]
		} else {
			line, body = body, nil
		}

		line = bytes.TrimRight(line, " \t")
		if len(line) == 0 {
			pendingEmpty++
			continue
		}
		for ; pendingEmpty > 0; pendingEmpty-- {
			w.Write(crlf)
		}

		writeRelaxedLine(w, line)
		w.Write(crlf)
	}
}

// writeRelaxedLine writes one body line, already trimmed at the end, with
// every run of SP and HTAB written as a single SP.
func writeRelaxedLine(w io.Writer, line []byte) {
	start := 0
	for i := 0; i < len(line); i++ {
		c := line[i]
		if c != ' ' && c != '\t' {
			continue
		}
		j := i + 1
		for j < len(line) && (line[j] == ' ' || line[j] == '\t') {
			j++
		}
		if c == ' ' && j == i+1 {
			continue
		}
		w.Write(line[start:i])
		w.Write(space)
		start, i = j, j-1
	}
	w.Write(line[start:])
}

var space = []byte(" ")
