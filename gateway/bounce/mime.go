package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/textproto"
	"strings"
)

const (
	// MaxReportBytes caps what the parsers read from one input; a report
	// with its returned message fits in far less.
	MaxReportBytes = 10 << 20

	// maxDepth bounds MIME nesting while looking for the report part.
	maxDepth = 5

	// maxParts bounds the body parts read from one multipart entity.
	maxParts = 64
)

// part is one MIME entity with its body already transfer-decoded.
type part struct {
	header textproto.MIMEHeader
	body   []byte
}

// readLimited reads all of r, failing with ErrTooLarge past MaxReportBytes.
func readLimited(r io.Reader) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxReportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if len(b) > MaxReportBytes {
		return nil, ErrTooLarge
	}
	return b, nil
}

// readMessage splits a message into its header and decoded body.
func readMessage(r io.Reader) (part, error) {
	b, err := readLimited(r)
	if err != nil {
		return part{}, err
	}
	return splitEntity(b)
}

// splitEntity parses header and body of one entity. A header that is cut
// short (no blank line) leaves an empty body.
func splitEntity(b []byte) (part, error) {
	br := bufio.NewReader(bytes.NewReader(b))
	h, err := textproto.NewReader(br).ReadMIMEHeader()
	if err != nil && !errors.Is(err, io.EOF) {
		return part{}, fmt.Errorf("read header: %w", ErrMalformed)
	}
	rest, _ := io.ReadAll(br)
	return part{header: h, body: decodeBody(h, rest)}, nil
}

// readHeaderLenient reads as much of a header block as parses, for the
// returned message's headers, which may be cut off or mangled.
func readHeaderLenient(b []byte) textproto.MIMEHeader {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(b))).ReadMIMEHeader()
	return h
}

// decodeBody undoes base64 and quoted-printable transfer encodings; any
// other encoding is passed through. A body that fails to decode is kept
// as far as it decoded.
func decodeBody(h textproto.MIMEHeader, b []byte) []byte {
	switch strings.ToLower(strings.TrimSpace(h.Get("Content-Transfer-Encoding"))) {
	case "base64":
		clean := bytes.Map(func(r rune) rune {
			if r == '\r' || r == '\n' || r == ' ' || r == '\t' {
				return -1
			}
			return r
		}, b)
		out, _ := io.ReadAll(base64.NewDecoder(base64.StdEncoding, bytes.NewReader(clean)))
		return out
	case "quoted-printable":
		out, _ := io.ReadAll(quotedprintable.NewReader(bytes.NewReader(b)))
		return out
	}
	return b
}

// mediaType returns the lower-case media type and parameters of p; a
// missing or broken Content-Type is text/plain (RFC 2045 §5.2).
func (p part) mediaType() (string, map[string]string) {
	v := p.header.Get("Content-Type")
	if v == "" {
		return "text/plain", nil
	}
	t, params, err := mime.ParseMediaType(v)
	if err != nil {
		return "text/plain", nil
	}
	return t, params
}

// children splits a multipart entity. A broken or truncated multipart
// (common when a returned message is cut off) yields the parts read so
// far.
func (p part) children() []part {
	t, params := p.mediaType()
	if !strings.HasPrefix(t, "multipart/") || params["boundary"] == "" {
		return nil
	}
	mr := multipart.NewReader(bytes.NewReader(p.body), params["boundary"])
	var out []part
	for len(out) < maxParts {
		np, err := mr.NextRawPart()
		if err != nil {
			break
		}
		body, err := io.ReadAll(np)
		h := np.Header
		out = append(out, part{header: h, body: decodeBody(h, body)})
		if err != nil {
			break
		}
	}
	return out
}

// findReport returns the first multipart/report entity in a depth-first
// walk, with its lower-case report-type, looking inside multipart and
// message/rfc822 entities up to maxDepth levels.
func findReport(p part, depth int) (part, string, bool) {
	t, params := p.mediaType()
	if t == "multipart/report" {
		return p, strings.ToLower(params["report-type"]), true
	}
	if depth >= maxDepth || !strings.HasPrefix(t, "multipart/") {
		return part{}, "", false
	}
	for _, c := range p.children() {
		if r, rt, ok := findReport(c, depth+1); ok {
			return r, rt, true
		}
	}
	return part{}, "", false
}

// childOfType returns the first child whose media type is one of types.
func childOfType(children []part, types ...string) (part, bool) {
	for _, c := range children {
		t, _ := c.mediaType()
		for _, want := range types {
			if t == want {
				return c, true
			}
		}
	}
	return part{}, false
}

// returned holds what the parsers keep of a returned message.
type returned struct {
	messageID  string
	returnPath string
}

// returnedHeaders reads Message-ID and Return-Path from the returned
// message (message/rfc822, message/global) or its headers
// (text/rfc822-headers, message/global-headers), if the report has one.
func returnedHeaders(children []part) returned {
	c, ok := childOfType(children, "message/rfc822", "message/global",
		"text/rfc822-headers", "message/global-headers")
	if !ok {
		return returned{}
	}
	h := readHeaderLenient(c.body)
	return returned{
		messageID:  normaliseMessageID(h.Get("Message-Id")),
		returnPath: normaliseAddress(h.Get("Return-Path")),
	}
}

// fieldBlock is one group of "Name: value" fields, names in lower case.
type fieldBlock map[string][]string

func (b fieldBlock) get(name string) string {
	if v := b[name]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// maxFieldBlocks bounds the groups read from a status or feedback part.
const maxFieldBlocks = 128

// parseFieldBlocks reads the RFC 3464 §2.1 / RFC 5965 §3 body layout:
// header-style fields in groups separated by blank lines, with folded
// continuation lines. Lines without a colon are skipped.
func parseFieldBlocks(b []byte) []fieldBlock {
	var blocks []fieldBlock
	cur := fieldBlock{}
	last := ""
	flush := func() {
		if len(cur) > 0 {
			blocks = append(blocks, cur)
		}
		cur, last = fieldBlock{}, ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		if len(blocks) >= maxFieldBlocks {
			break
		}
		line = strings.TrimRight(line, "\r")
		switch {
		case strings.TrimSpace(line) == "":
			flush()
		case line[0] == ' ' || line[0] == '\t':
			if vs := cur[last]; last != "" && len(vs) > 0 {
				vs[len(vs)-1] += " " + strings.TrimSpace(line)
			}
		default:
			name, value, ok := strings.Cut(line, ":")
			if !ok {
				last = ""
				continue
			}
			last = strings.ToLower(strings.TrimSpace(name))
			cur[last] = append(cur[last], strings.TrimSpace(value))
		}
	}
	flush()
	return blocks
}

// typedAddress reads "type; address" (RFC 3464 §2.3.1, RFC 5965 §3.5
// uses bare addresses) and returns the address when the type is rfc822 or
// utf-8 and the address is plain ASCII.
func typedAddress(v string) string {
	typ, addr, ok := strings.Cut(v, ";")
	if !ok {
		return normaliseAddress(v)
	}
	switch strings.ToLower(strings.TrimSpace(typ)) {
	case "rfc822", "utf-8":
		return normaliseAddress(addr)
	}
	return ""
}

// wordDecoder decodes RFC 2047 encoded words in the charsets the standard
// library knows; others stay encoded, which only makes them unmatched.
var wordDecoder = new(mime.WordDecoder)

func decodeHeader(v string) string {
	d, err := wordDecoder.DecodeHeader(v)
	if err != nil {
		return v
	}
	return d
}
