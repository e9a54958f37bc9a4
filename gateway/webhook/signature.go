package webhook

import (
	"bytes"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"
)

// Header names and the content type of a webhook request.
const (
	HeaderSignature = "Sealpost-Signature"
	HeaderEventID   = "Sealpost-Event-Id"
	ContentType     = "application/json"
)

// Signature limits and defaults.
const (
	// SecretPrefix starts every configured secret: "whsec_<base64>".
	SecretPrefix = "whsec_"

	// MinSecretBytes is the shortest accepted secret: the HMAC-SHA256 output
	// length, the minimum RFC 2104 §3 recommends.
	MinSecretBytes = sha256.Size

	// MaxSecretBytes bounds a secret; longer keys add nothing to HMAC-SHA256.
	MaxSecretBytes = 256

	// DefaultTolerance is how far a signature's timestamp may be from the
	// receiver's clock when Verify is given no tolerance.
	DefaultTolerance = 5 * time.Minute

	// MaxSignatureHeader bounds the header Verify parses: a timestamp and
	// two v1 values fit with room to spare.
	MaxSignatureHeader = 512

	// maxSignatures is how many v1 values Sign ever writes.
	maxSignatures = 2

	// maxTimestampDigits keeps the timestamp inside int64.
	maxTimestampDigits = 18
)

// Secrets holds the webhook signing secrets: the current one, and during a
// rotation the previous one. Both sign every request while both are set.
// Secrets never print or log their bytes.
type Secrets struct {
	Current  []byte
	Previous []byte
}

// ParseSecrets reads "whsec_<base64>[,whsec_<base64>]": the current secret,
// then optionally the previous one. Standard base64 with or without padding
// is accepted; each secret must decode to MinSecretBytes to MaxSecretBytes
// bytes. Errors never repeat the input.
func ParseSecrets(s string) (Secrets, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxSignatures {
		return Secrets{}, fmt.Errorf("%w: more than two secrets", ErrInvalidSecret)
	}

	keys := make([][]byte, 0, len(parts))

	for i, part := range parts {
		key, err := parseSecret(strings.TrimSpace(part))
		if err != nil {
			return Secrets{}, fmt.Errorf("secret %d: %w", i+1, err)
		}

		keys = append(keys, key)
	}

	secrets := Secrets{Current: keys[0]}
	if len(keys) == 2 {
		secrets.Previous = keys[1]
	}

	return secrets, nil
}

func parseSecret(s string) ([]byte, error) {
	if s == "" {
		return nil, fmt.Errorf("%w: empty", ErrInvalidSecret)
	}

	encoded, ok := strings.CutPrefix(s, SecretPrefix)
	if !ok {
		return nil, fmt.Errorf("%w: missing %q prefix", ErrInvalidSecret, SecretPrefix)
	}

	if len(encoded) > base64.StdEncoding.EncodedLen(MaxSecretBytes) {
		return nil, fmt.Errorf("%w: too long", ErrInvalidSecret)
	}

	key, err := base64.StdEncoding.DecodeString(encoded)
	if err != nil {
		key, err = base64.RawStdEncoding.DecodeString(encoded)
	}

	// The decoder's error names the offending byte offset, not the byte, but
	// it adds nothing an operator needs.
	if err != nil {
		return nil, fmt.Errorf("%w: not base64", ErrInvalidSecret)
	}

	if len(key) < MinSecretBytes {
		return nil, fmt.Errorf("%w: shorter than %d bytes", ErrInvalidSecret, MinSecretBytes)
	}

	if len(key) > MaxSecretBytes {
		return nil, fmt.Errorf("%w: too long", ErrInvalidSecret)
	}

	return key, nil
}

// GenerateSecret returns a new random secret of MinSecretBytes bytes in the
// "whsec_<base64>" form ParseSecrets reads.
func GenerateSecret() (string, error) {
	key := make([]byte, MinSecretBytes)
	if _, err := rand.Read(key); err != nil {
		return "", fmt.Errorf("generate secret: %w", err)
	}

	return SecretPrefix + base64.StdEncoding.EncodeToString(key), nil
}

// String implements fmt.Stringer without revealing the secrets.
func (Secrets) String() string { return "[redacted]" }

// GoString implements fmt.GoStringer without revealing the secrets.
func (Secrets) GoString() string { return "webhook.Secrets{[redacted]}" }

// Format implements fmt.Formatter so that no verb (%x, %d, %#v …) prints
// the bytes.
func (s Secrets) Format(f fmt.State, verb rune) {
	if verb == 'v' && f.Flag('#') {
		_, _ = f.Write([]byte(s.GoString()))
		return
	}

	_, _ = f.Write([]byte(s.String()))
}

// LogValue implements slog.LogValuer without revealing the secrets.
func (Secrets) LogValue() slog.Value { return slog.StringValue("[redacted]") }

// MarshalJSON keeps the secrets out of any JSON dump of a configuration.
func (Secrets) MarshalJSON() ([]byte, error) { return []byte(`"[redacted]"`), nil }

// Sign returns the Sealpost-Signature header value for body sent at t:
// "t=<unix>,v1=<hex hmac current>[,v1=<hex hmac previous>]". Each HMAC-SHA256
// is over "<unix>.<body>". An empty secret is skipped, and so is a previous
// secret equal to the current one.
func Sign(secrets Secrets, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)

	var b strings.Builder
	b.WriteString("t=")
	b.WriteString(ts)

	if len(secrets.Current) > 0 {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(secrets.Current, ts, body)))
	}

	if len(secrets.Previous) > 0 && !bytes.Equal(secrets.Previous, secrets.Current) {
		b.WriteString(",v1=")
		b.WriteString(hex.EncodeToString(mac(secrets.Previous, ts, body)))
	}

	return b.String()
}

func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)

	return h.Sum(nil)
}

// Verify is what a receiver runs on each request: it checks that header (the
// Sealpost-Signature value) carries a v1 HMAC of body under secret and a
// timestamp within tolerance of now (DefaultTolerance when tolerance <= 0).
// The header must be exactly in the form Sign writes; comparisons are
// constant-time. Every error matches [ErrInvalidSignature].
func Verify(
	secret []byte, header string, body []byte, now time.Time, tolerance time.Duration,
) error {
	if len(secret) == 0 {
		return fmt.Errorf("%w: %w", ErrInvalidSignature, ErrInvalidSecret)
	}

	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}

	ts, sigs, err := parseSignature(header)
	if err != nil {
		return err
	}

	unix, _ := strconv.ParseInt(ts, 10, 64) // digits checked by parseSignature

	age := now.Sub(time.Unix(unix, 0))
	if age > tolerance || age < -tolerance {
		return ErrStaleSignature
	}

	// Every v1 is compared, in constant time, whether or not an earlier one
	// matched.
	want := mac(secret, ts, body)
	match := 0

	for _, sig := range sigs {
		match |= subtle.ConstantTimeCompare(sig, want)
	}

	if match == 0 {
		return ErrSignatureMismatch
	}

	return nil
}

// parseSignature splits "t=<digits>,v1=<64 hex>[,v1=<64 hex>]" and returns
// the timestamp digits and the decoded signatures. Anything else, including
// spaces, upper-case hex, leading zeros or unknown keys, is malformed.
func parseSignature(header string) (string, [][]byte, error) {
	if len(header) > MaxSignatureHeader {
		return "", nil, ErrMalformedSignature
	}

	fields := strings.Split(header, ",")
	if len(fields) < 2 || len(fields) > 1+maxSignatures {
		return "", nil, ErrMalformedSignature
	}

	ts, ok := strings.CutPrefix(fields[0], "t=")
	if !ok || !isTimestamp(ts) {
		return "", nil, ErrMalformedSignature
	}

	sigs := make([][]byte, 0, len(fields)-1)

	for _, field := range fields[1:] {
		value, ok := strings.CutPrefix(field, "v1=")
		if !ok || len(value) != hex.EncodedLen(sha256.Size) || !isLowerHex(value) {
			return "", nil, ErrMalformedSignature
		}

		sig, _ := hex.DecodeString(value) // alphabet checked above
		sigs = append(sigs, sig)
	}

	return ts, sigs, nil
}

func isTimestamp(s string) bool {
	if !isDigits(s, maxTimestampDigits) {
		return false
	}

	return s == "0" || s[0] != '0'
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}

	return true
}
