package dkimtest

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"regexp"
	"strings"
)

// LookupFunc returns the TXT record published at a key record name such as
// "s1._domainkey.example.test".
type LookupFunc func(name string) (string, error)

// Result is the outcome for one DKIM-Signature field, in header order.
type Result struct {
	Domain     string
	Selector   string
	Algorithm  string
	Headers    []string // the h= list
	BodyHash   []byte   // the bh= value
	Timestamp  string   // the t= value
	Err        error    // nil when the signature verifies
	FieldLines []string // the raw signature field split at CRLF
}

var (
	wspRun      = regexp.MustCompile(`[ \t]+`)
	wspAtEnd    = regexp.MustCompile(`[ \t]+$`)
	foldBreak   = regexp.MustCompile(`\r\n([ \t])`)
	allFWS      = regexp.MustCompile(`[ \t\r\n]+`)
	errNoHeader = errors.New("message has no header/body separator")
)

// Verify checks every DKIM-Signature field of msg. The error is for a
// message that cannot be parsed at all; per-signature failures are in
// each Result.
func Verify(msg []byte, lookup LookupFunc) ([]Result, error) {
	fields, body, err := parseMessage(string(msg))
	if err != nil {
		return nil, err
	}

	var results []Result
	for _, f := range fields {
		if !strings.EqualFold(fieldName(f), "DKIM-Signature") {
			continue
		}
		results = append(results, verifyOne(f, fields, body, lookup))
	}
	return results, nil
}

// parseMessage returns the raw header fields (each with its folds and final
// CRLF) and the body.
func parseMessage(msg string) ([]string, string, error) {
	var head, body string
	if strings.HasPrefix(msg, "\r\n") {
		body = msg[2:]
	} else if i := strings.Index(msg, "\r\n\r\n"); i >= 0 {
		head, body = msg[:i+2], msg[i+4:]
	} else if strings.HasSuffix(msg, "\r\n") {
		head = msg
	} else {
		return nil, "", errNoHeader
	}

	var fields []string
	for _, line := range strings.SplitAfter(head, "\r\n") {
		if line == "" {
			continue
		}
		if (line[0] == ' ' || line[0] == '\t') && len(fields) > 0 {
			fields[len(fields)-1] += line
			continue
		}
		fields = append(fields, line)
	}
	return fields, body, nil
}

func fieldName(raw string) string {
	name, _, _ := strings.Cut(raw, ":")
	return strings.TrimRight(name, " \t")
}

// Tags parses the tag-list of a DKIM-Signature field or key record, with
// or without the field name in front.
func Tags(s string) (map[string]string, error) {
	if name, value, ok := strings.Cut(s, ":"); ok && strings.EqualFold(name, "DKIM-Signature") {
		s = value
	}
	return parseTags(s)
}

// parseTags parses a tag-list (RFC 6376 section 3.2).
func parseTags(s string) (map[string]string, error) {
	tags := map[string]string{}
	for _, spec := range strings.Split(s, ";") {
		if strings.TrimSpace(allFWS.ReplaceAllString(spec, " ")) == "" {
			continue
		}
		name, value, ok := strings.Cut(spec, "=")
		if !ok {
			return nil, fmt.Errorf("tag without '=': %q", spec)
		}
		name = strings.TrimSpace(allFWS.ReplaceAllString(name, " "))
		if _, dup := tags[name]; dup {
			return nil, fmt.Errorf("duplicate tag %q", name)
		}
		tags[name] = strings.TrimSpace(allFWS.ReplaceAllString(value, " "))
	}
	return tags, nil
}

func verifyOne(sigField string, fields []string, body string, lookup LookupFunc) Result {
	res := Result{FieldLines: strings.Split(strings.TrimSuffix(sigField, "\r\n"), "\r\n")}
	_, value, _ := strings.Cut(sigField, ":")
	tags, err := parseTags(value)
	if err != nil {
		res.Err = err
		return res
	}

	res.Domain, res.Selector, res.Algorithm = tags["d"], tags["s"], tags["a"]
	res.Timestamp = tags["t"]
	for _, name := range []string{"v", "a", "b", "bh", "d", "h", "s"} {
		if _, ok := tags[name]; !ok {
			res.Err = fmt.Errorf("missing tag %s=", name)
			return res
		}
	}
	if tags["v"] != "1" {
		res.Err = errors.New("v= is not 1")
		return res
	}
	if _, ok := tags["l"]; ok {
		res.Err = errors.New("l= is not accepted")
		return res
	}

	headerCanon, bodyCanon := "simple", "simple"
	if c, ok := tags["c"]; ok {
		h, b, found := strings.Cut(c, "/")
		headerCanon = h
		if found {
			bodyCanon = b
		}
	}

	res.Headers = strings.Split(allFWS.ReplaceAllString(tags["h"], ""), ":")
	fromSigned := false
	for _, h := range res.Headers {
		fromSigned = fromSigned || strings.EqualFold(h, "From")
	}
	if !fromSigned {
		res.Err = errors.New("h= does not list From")
		return res
	}

	res.BodyHash, err = base64.StdEncoding.DecodeString(allFWS.ReplaceAllString(tags["bh"], ""))
	if err != nil {
		res.Err = fmt.Errorf("bh= is not base64: %w", err)
		return res
	}
	bodyHash, err := BodyHash(body, bodyCanon)
	if err != nil {
		res.Err = err
		return res
	}
	if string(bodyHash) != string(res.BodyHash) {
		res.Err = errors.New("body hash mismatch")
		return res
	}

	data, err := signedData(sigField, fields, res.Headers, headerCanon)
	if err != nil {
		res.Err = err
		return res
	}
	sig, err := base64.StdEncoding.DecodeString(allFWS.ReplaceAllString(tags["b"], ""))
	if err != nil {
		res.Err = fmt.Errorf("b= is not base64: %w", err)
		return res
	}

	record, err := lookup(res.Selector + "._domainkey." + res.Domain)
	if err != nil {
		res.Err = fmt.Errorf("key lookup: %w", err)
		return res
	}
	res.Err = checkSignature(record, res.Algorithm, data, sig)
	return res
}

// signedData builds the header hash input: the fields named in h=, each
// taken from the bottom up, then the signature field with b= emptied and no
// final CRLF (RFC 6376 sections 3.7 and 5.4.2).
func signedData(sigField string, fields, names []string, canon string) (string, error) {
	var sb strings.Builder
	used := map[string]int{}
	for _, name := range names {
		key := strings.ToLower(name)
		skip := used[key]
		used[key]++
		for i := len(fields) - 1; i >= 0; i-- {
			if !strings.EqualFold(fieldName(fields[i]), name) {
				continue
			}
			if skip > 0 {
				skip--
				continue
			}
			c, err := CanonicalHeader(fields[i], canon)
			if err != nil {
				return "", err
			}
			sb.WriteString(c)
			break
		}
	}

	colon := strings.Index(sigField, ":")
	specs := strings.Split(sigField[colon+1:], ";")
	for i, spec := range specs {
		name, _, ok := strings.Cut(spec, "=")
		if ok && strings.TrimSpace(allFWS.ReplaceAllString(name, " ")) == "b" {
			specs[i] = name + "="
		}
	}
	stripped := sigField[:colon+1] + strings.Join(specs, ";")
	if !strings.HasSuffix(stripped, "\r\n") {
		stripped += "\r\n"
	}
	c, err := CanonicalHeader(stripped, canon)
	if err != nil {
		return "", err
	}
	sb.WriteString(strings.TrimSuffix(c, "\r\n"))
	return sb.String(), nil
}

// CanonicalHeader canonicalizes one raw header field (with its final
// CRLF) by the named algorithm, RFC 6376 sections 3.4.1 and 3.4.2.
func CanonicalHeader(raw, canon string) (string, error) {
	switch canon {
	case "simple":
		return raw, nil
	case "relaxed":
		name, value, _ := strings.Cut(raw, ":")
		name = strings.ToLower(strings.TrimRight(name, " \t"))
		value = foldBreak.ReplaceAllString(strings.TrimSuffix(value, "\r\n"), "$1")
		value = strings.Trim(wspRun.ReplaceAllString(value, " "), " ")
		return name + ":" + value + "\r\n", nil
	}
	return "", fmt.Errorf("unknown header canonicalization %q", canon)
}

// BodyHash returns the SHA-256 hash of body canonicalized by the named
// algorithm, RFC 6376 sections 3.4.3 and 3.4.4.
func BodyHash(body, canon string) ([]byte, error) {
	var c string
	switch canon {
	case "simple":
		c = simpleBody(body)
	case "relaxed":
		lines := strings.Split(body, "\r\n")
		for i, l := range lines {
			lines[i] = wspRun.ReplaceAllString(wspAtEnd.ReplaceAllString(l, ""), " ")
		}
		for len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if len(lines) > 0 {
			c = strings.Join(lines, "\r\n") + "\r\n"
		}
	default:
		return nil, fmt.Errorf("unknown body canonicalization %q", canon)
	}
	sum := sha256.Sum256([]byte(c))
	return sum[:], nil
}

// simpleBody drops every empty line at the end of body and ends it with
// exactly one CRLF; an empty body becomes a single CRLF.
func simpleBody(body string) string {
	for strings.HasSuffix(body, "\r\n\r\n") {
		body = strings.TrimSuffix(body, "\r\n")
	}
	if !strings.HasSuffix(body, "\r\n") {
		body += "\r\n"
	}
	return body
}

// checkSignature verifies sig over data with the key in a DKIM key record.
func checkSignature(record, algorithm string, data string, sig []byte) error {
	tags, err := parseTags(record)
	if err != nil {
		return fmt.Errorf("key record: %w", err)
	}
	if v, ok := tags["v"]; ok && v != "DKIM1" {
		return errors.New("key record v= is not DKIM1")
	}
	keyType := "rsa"
	if k, ok := tags["k"]; ok {
		keyType = k
	}
	if algorithm != keyType+"-sha256" {
		return fmt.Errorf("a=%s does not match k=%s", algorithm, keyType)
	}
	p, err := base64.StdEncoding.DecodeString(allFWS.ReplaceAllString(tags["p"], ""))
	if err != nil || len(p) == 0 {
		return errors.New("key record p= is missing or not base64")
	}

	digest := sha256.Sum256([]byte(data))
	switch keyType {
	case "rsa":
		pub, err := x509.ParsePKIXPublicKey(p)
		if err != nil {
			return fmt.Errorf("rsa key: %w", err)
		}
		rsaPub, ok := pub.(*rsa.PublicKey)
		if !ok {
			return errors.New("p= is not an RSA key")
		}
		return rsa.VerifyPKCS1v15(rsaPub, crypto.SHA256, digest[:], sig)
	case "ed25519":
		if len(p) != ed25519.PublicKeySize {
			return errors.New("ed25519 key is not 32 bytes")
		}
		if !ed25519.Verify(ed25519.PublicKey(p), digest[:], sig) {
			return errors.New("ed25519 signature mismatch")
		}
		return nil
	}
	return fmt.Errorf("unsupported key type %q", keyType)
}
