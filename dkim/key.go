package dkim

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"golang.org/x/net/idna"
)

// Algorithm names a DKIM key type as written in the k= tag of a key record.
type Algorithm string

const (
	// RSA is an RSA key of DefaultRSABits, signing with rsa-sha256.
	RSA Algorithm = "rsa"

	// Ed25519 is an Ed25519 key, signing with ed25519-sha256 (RFC 8463).
	Ed25519 Algorithm = "ed25519"
)

const (
	// DefaultRSABits is the size of generated RSA keys. RFC 8301 section 3.2
	// says signers SHOULD use at least 2048 bits.
	DefaultRSABits = 2048

	// MinRSABits is the smallest RSA key that is loaded or used for signing;
	// RFC 8301 section 3.2 says signers MUST use at least 1024 bits.
	MinRSABits = 1024

	// maxDomainLen is the longest domain name in octets, RFC 1035
	// section 2.3.4 (255 on the wire, 253 in text form).
	maxDomainLen = 253

	// maxLabelLen is the longest DNS label, RFC 1035 section 2.3.4.
	maxLabelLen = 63

	// maxTXTStringLen is the longest character-string in a TXT record, RFC
	// 1035 section 3.3.
	maxTXTStringLen = 255
)

// ParseAlgorithm returns the Algorithm named by s, ignoring case.
func ParseAlgorithm(s string) (Algorithm, error) {
	switch Algorithm(strings.ToLower(strings.TrimSpace(s))) {
	case RSA:
		return RSA, nil
	case Ed25519:
		return Ed25519, nil
	}
	return "", ErrUnknownAlgorithm
}

// String returns the algorithm name.
func (a Algorithm) String() string { return string(a) }

// signatureAlgorithm returns the a= tag value for keys of this algorithm.
func (a Algorithm) signatureAlgorithm() string { return string(a) + "-sha256" }

// Key is one DKIM signing key: the private key and where its public half is
// published. Domain is the signing domain (d=) as a lower-case A-label and
// Selector the s= value, lower case.
//
// Key formats itself and logs as its record name and algorithm only, never
// its key material.
type Key struct {
	Domain    string
	Selector  string
	Algorithm Algorithm
	Signer    crypto.Signer
	CreatedAt time.Time
}

// Generate creates a new key for domain and selector. RSA keys have
// DefaultRSABits. The domain may be given as a U-label; it is stored as a
// lower-case A-label.
func Generate(alg Algorithm, domain, selector string) (*Key, error) {
	domain, err := normalizeDomain(domain)
	if err != nil {
		return nil, err
	}

	selector, err = normalizeSelector(selector)
	if err != nil {
		return nil, err
	}

	var signer crypto.Signer
	switch alg {
	case RSA:
		signer, err = rsa.GenerateKey(rand.Reader, DefaultRSABits)
	case Ed25519:
		_, signer, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, ErrUnknownAlgorithm
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}

	return &Key{
		Domain:    domain,
		Selector:  selector,
		Algorithm: alg,
		Signer:    signer,
		CreatedAt: time.Now().UTC().Truncate(time.Second),
	}, nil
}

// RecordName returns the DNS name of the key record,
// "<selector>._domainkey.<domain>" (RFC 6376 section 3.6.2.1).
func (k *Key) RecordName() string {
	return k.Selector + "._domainkey." + k.Domain
}

// TXTRecord returns the key record to publish at RecordName, for example
// "v=DKIM1; k=rsa; p=MIIBIjAN...". The p= value is the base64
// SubjectPublicKeyInfo for RSA (RFC 6376 section 3.6.1) and the raw 32-byte
// public key for Ed25519 (RFC 8463 section 4.2). It returns "" for a key
// whose Signer is neither.
func (k *Key) TXTRecord() string {
	var keyType string
	var der []byte
	switch pub := k.Signer.Public().(type) {
	case *rsa.PublicKey:
		var err error
		if der, err = x509.MarshalPKIXPublicKey(pub); err != nil {
			return ""
		}
		keyType = string(RSA)
	case ed25519.PublicKey:
		der, keyType = pub, string(Ed25519)
	default:
		return ""
	}
	return "v=DKIM1; k=" + keyType + "; p=" + base64.StdEncoding.EncodeToString(der)
}

// TXTStrings returns TXTRecord split into the character-strings of one TXT
// record, each at most 255 octets (RFC 1035 section 3.3). Resolvers join
// them back without separators (RFC 6376 section 3.6.2.2).
func (k *Key) TXTStrings() []string {
	rec := k.TXTRecord()
	var parts []string
	for len(rec) > maxTXTStringLen {
		parts = append(parts, rec[:maxTXTStringLen])
		rec = rec[maxTXTStringLen:]
	}
	return append(parts, rec)
}

// ZoneRecord returns the key record as one zone-file line, for example
// `s1._domainkey.example.test. IN TXT ( "v=DKIM1; k=rsa; p=..." "..." )`.
func (k *Key) ZoneRecord() string {
	var b strings.Builder
	b.WriteString(k.RecordName())
	b.WriteString(". IN TXT (")
	for _, s := range k.TXTStrings() {
		b.WriteString(` "`)
		b.WriteString(s)
		b.WriteString(`"`)
	}
	b.WriteString(" )")
	return b.String()
}

// LogValue logs the key as its domain, selector and algorithm. It has a
// value receiver so that a Key logged by value is redacted too.
func (k Key) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("domain", k.Domain),
		slog.String("selector", k.Selector),
		slog.String("algorithm", string(k.Algorithm)),
	)
}

// String describes the key by record name and algorithm, so that printing a
// Key never prints its private half.
func (k Key) String() string {
	return k.Selector + "._domainkey." + k.Domain + " (" + string(k.Algorithm) + ")"
}

// GoString is String, for the %#v verb.
func (k Key) GoString() string { return "dkim.Key(" + k.String() + ")" }

// MarshalJSON encodes the public view of the key: names, algorithm,
// creation time and the TXT record. The private key is never encoded.
func (k Key) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Domain     string    `json:"domain"`
		Selector   string    `json:"selector"`
		Algorithm  Algorithm `json:"algorithm"`
		CreatedAt  time.Time `json:"created_at"`
		RecordName string    `json:"record_name"`
		TXTRecord  string    `json:"txt_record"`
	}{k.Domain, k.Selector, k.Algorithm, k.CreatedAt, k.RecordName(), k.TXTRecord()})
}

// validate checks that the key can sign: names in normal form, a Signer of
// the type Algorithm says and, for RSA, at least MinRSABits.
func (k *Key) validate() error {
	if d, err := normalizeDomain(k.Domain); err != nil || d != k.Domain {
		return ErrInvalidDomain
	}
	if s, err := normalizeSelector(k.Selector); err != nil || s != k.Selector {
		return ErrInvalidSelector
	}
	if k.Signer == nil {
		return ErrKeyMismatch
	}
	alg, err := algorithmOf(k.Signer.Public())
	if err != nil {
		return err
	}
	if alg != k.Algorithm {
		return ErrKeyMismatch
	}
	return nil
}

// algorithmOf returns the Algorithm of a public key, refusing RSA keys below
// MinRSABits.
func algorithmOf(pub crypto.PublicKey) (Algorithm, error) {
	switch pub := pub.(type) {
	case *rsa.PublicKey:
		if pub.N.BitLen() < MinRSABits {
			return "", ErrKeyTooSmall
		}
		return RSA, nil
	case ed25519.PublicKey:
		return Ed25519, nil
	}
	return "", ErrUnknownAlgorithm
}

// normalizeDomain returns domain as a lower-case A-label without a trailing
// dot, or ErrInvalidDomain.
func normalizeDomain(domain string) (string, error) {
	ascii, err := idna.Lookup.ToASCII(strings.TrimSuffix(domain, "."))
	if err != nil || len(ascii) > maxDomainLen || !validLabels(ascii) {
		return "", ErrInvalidDomain
	}
	return ascii, nil
}

// normalizeSelector returns selector in lower case, or ErrInvalidSelector if
// it is not dot-separated LDH labels (RFC 6376 section 3.1).
func normalizeSelector(selector string) (string, error) {
	selector = strings.ToLower(selector)
	if len(selector) > maxDomainLen || !validLabels(selector) {
		return "", ErrInvalidSelector
	}
	return selector, nil
}

// validLabels reports whether s is one or more dot-separated labels of
// lower-case letters, digits and inner hyphens (RFC 5321 section 4.1.2).
func validLabels(s string) bool {
	if s == "" {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > maxLabelLen ||
			label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if (c < 'a' || c > 'z') && (c < '0' || c > '9') && c != '-' {
				return false
			}
		}
	}
	return true
}
