package dkim

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"log/slog"
	"strconv"
	"time"
)

const (
	// headerFieldName is the name of the signature field, RFC 6376
	// section 3.5.
	headerFieldName = "DKIM-Signature"

	// foldWidth is where signature lines are folded: RFC 5322 section 2.1.1
	// says lines SHOULD be at most 78 characters (and MUST be at most 998).
	foldWidth = 78

	// canonicalization is the c= tag of every signature.
	canonicalization = "relaxed/relaxed"
)

// signedField is a header field name that is signed, and whether it is
// signed (and oversigned) even when the message lacks it.
type signedField struct {
	name   string
	always bool
}

// signedFields lists, in h= order, the header fields Sign covers. The first
// seven are the fields RFC 6376 section 5.4.1 recommends that every
// transactional message carries; they are listed in h= even when absent, so
// none can be added later. The rest are signed only when present.
var signedFields = []signedField{
	{"From", true},
	{"To", true},
	{"Subject", true},
	{"Date", true},
	{"Message-ID", true},
	{"MIME-Version", true},
	{"Content-Type", true},
	{"Cc", false},
	{"Reply-To", false},
	{"In-Reply-To", false},
	{"References", false},
	{"List-Unsubscribe", false},
	{"List-Unsubscribe-Post", false},
}

// Signer adds DKIM signatures to finished messages with one or more keys,
// for example an RSA and an Ed25519 key for dual signing (RFC 8463
// section 4). A Signer is safe for concurrent use.
type Signer struct {
	keys []*Key
}

// NewSigner returns a Signer for keys, which must be valid and differ in
// domain or selector.
func NewSigner(keys ...*Key) (*Signer, error) {
	if len(keys) == 0 {
		return nil, ErrNoKeys
	}

	seen := make(map[string]bool, len(keys))
	for _, k := range keys {
		if k == nil {
			return nil, ErrNoKeys
		}
		if err := k.validate(); err != nil {
			return nil, fmt.Errorf("signing key %s: %w", k.RecordName(), err)
		}
		if seen[k.RecordName()] {
			return nil, fmt.Errorf("signing key %s: %w", k.RecordName(), ErrDuplicateKey)
		}
		seen[k.RecordName()] = true
	}

	return &Signer{keys: append([]*Key(nil), keys...)}, nil
}

// LogValue logs the signer as the keys it signs with.
func (s *Signer) LogValue() slog.Value {
	names := make([]string, len(s.keys))
	for i, k := range s.keys {
		names[i] = k.RecordName() + " " + string(k.Algorithm)
	}
	return slog.AnyValue(names)
}

// Sign signs msg, a complete RFC 5322 message with CRLF line endings, and
// returns the DKIM-Signature header fields, one per key in the order the
// keys were given, each ending in CRLF. The caller writes them in front of
// msg unchanged. The signature time is now.
func (s *Signer) Sign(msg []byte) ([]byte, error) {
	return s.SignAt(msg, time.Now())
}

// SignAt is Sign with the signature time (t=) given by the caller.
func (s *Signer) SignAt(msg []byte, t time.Time) ([]byte, error) {
	if !checkLineBreaks(msg) {
		return nil, ErrBareLineBreak
	}

	header, body, err := splitMessage(msg)
	if err != nil {
		return nil, err
	}

	fields, err := parseHeader(header)
	if err != nil {
		return nil, err
	}

	headerNames, canonHeaders, err := selectHeaders(fields)
	if err != nil {
		return nil, err
	}

	bodyHash := sha256.New()
	writeRelaxedBody(bodyHash, body)
	bh := base64.StdEncoding.EncodeToString(bodyHash.Sum(nil))

	out := make([]byte, 0, len(s.keys)*(len(header)/4+512))
	for _, k := range s.keys {
		sig := signature{
			key:         k,
			time:        t,
			headerNames: headerNames,
			bodyHash:    bh,
		}
		out, err = sig.appendSigned(out, canonHeaders)
		if err != nil {
			return nil, fmt.Errorf("sign with %s: %w", k.RecordName(), err)
		}
	}
	return out, nil
}

// selectHeaders returns the h= list for a message and the relaxed
// canonical form of the fields it selects, in hashing order. Every name is
// listed once more than it occurs, and its occurrences are taken from the
// bottom of the header up (RFC 6376 section 5.4.2), so the extra entry
// matches nothing now and any copy added later.
func selectHeaders(fields []field) (names []string, canon []byte, err error) {
	var matches []int
	for _, sf := range signedFields {
		matches = matches[:0]
		for i, f := range fields {
			if bytes.EqualFold(f.name, []byte(sf.name)) {
				matches = append(matches, i)
			}
		}
		if len(matches) == 0 && !sf.always {
			continue
		}
		if len(matches) == 0 && sf.name == "From" {
			return nil, nil, ErrNoFrom
		}

		for j := len(matches) - 1; j >= 0; j-- {
			names = append(names, sf.name)
			canon = appendRelaxedHeader(canon, fields[matches[j]].raw, false)
		}
		names = append(names, sf.name)
	}
	return names, canon, nil
}

// signature holds the tags of one DKIM-Signature field before it is signed.
type signature struct {
	key         *Key
	time        time.Time
	headerNames []string
	bodyHash    string
}

// appendSigned hashes the selected header fields and this field with an
// empty b= (RFC 6376 section 3.7), signs the hash and appends the finished
// field to dst.
func (sig *signature) appendSigned(dst, canonHeaders []byte) ([]byte, error) {
	unsigned := sig.format(nil, "")

	h := sha256.New()
	h.Write(canonHeaders)
	h.Write(appendRelaxedHeader(make([]byte, 0, len(unsigned)), unsigned, true))
	digest := h.Sum(nil)

	// Ed25519 signs the SHA-256 digest itself as its message (RFC 8463
	// section 3), so it is passed without a hash function.
	var opts crypto.SignerOpts = crypto.SHA256
	if sig.key.Algorithm == Ed25519 {
		opts = crypto.Hash(0)
	}
	b, err := sig.key.Signer.Sign(rand.Reader, digest, opts)
	if err != nil {
		return nil, err
	}

	return sig.format(dst, base64.StdEncoding.EncodeToString(b)), nil
}

// format appends the field with b= set to b. Tags come in a fixed order
// with b= last, and lines are folded near foldWidth only where RFC 6376
// section 3.5 allows whitespace: between tags, after a colon in h= and
// inside the base64 of b=.
func (sig *signature) format(dst []byte, b string) []byte {
	w := folder{buf: dst}
	w.buf = append(w.buf, headerFieldName...)
	w.buf = append(w.buf, ':')
	w.line = len(headerFieldName) + 1

	w.tag("v=1;")
	w.tag("a=" + sig.key.Algorithm.signatureAlgorithm() + ";")
	w.tag("c=" + canonicalization + ";")
	w.tag("d=" + sig.key.Domain + ";")
	w.tag("s=" + sig.key.Selector + ";")
	w.tag("t=" + strconv.FormatInt(sig.time.Unix(), 10) + ";")

	for i, name := range sig.headerNames {
		switch {
		case i == 0 && i == len(sig.headerNames)-1:
			w.tag("h=" + name + ";")
		case i == 0:
			w.tag("h=" + name + ":")
		case i == len(sig.headerNames)-1:
			w.word(name + ";")
		default:
			w.word(name + ":")
		}
	}

	w.tag("bh=" + sig.bodyHash + ";")
	w.tag("b=")
	w.fill(b)

	w.buf = append(w.buf, crlf...)
	return w.buf
}

// folder appends a header field, folding lines near foldWidth.
type folder struct {
	buf  []byte
	line int // octets on the current line
}

// fold starts a continuation line.
func (w *folder) fold() {
	w.buf = append(w.buf, "\r\n "...)
	w.line = 1
}

// tag appends s after a space, or on a new line if it would pass
// foldWidth.
func (w *folder) tag(s string) {
	if w.line+1+len(s) > foldWidth {
		w.fold()
	} else {
		w.buf = append(w.buf, ' ')
		w.line++
	}
	w.buf = append(w.buf, s...)
	w.line += len(s)
}

// word appends s directly, or on a new line if it would pass foldWidth.
func (w *folder) word(s string) {
	if w.line+len(s) > foldWidth {
		w.fold()
	}
	w.buf = append(w.buf, s...)
	w.line += len(s)
}

// fill appends s, folding wherever the line is full.
func (w *folder) fill(s string) {
	for len(s) > 0 {
		room := foldWidth - w.line
		if room <= 0 {
			w.fold()
			continue
		}
		n := min(room, len(s))
		w.buf = append(w.buf, s[:n]...)
		w.line += n
		s = s[n:]
	}
}
