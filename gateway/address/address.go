package address

import (
	"encoding/base64"
	"log/slog"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/idna"
)

// Limits on an address, from RFC 5321 §4.5.3.1 and RFC 3696 errata 1690.
const (
	// MaxLocalPartOctets is the longest local part (RFC 5321 §4.5.3.1.1).
	MaxLocalPartOctets = 64
	// MaxDomainOctets is the longest domain (RFC 5321 §4.5.3.1.2).
	MaxDomainOctets = 255
	// MaxLabelOctets is the longest domain label (RFC 1035 §2.3.4).
	MaxLabelOctets = 63
	// MaxAddressOctets is the longest whole address: the 256-octet path of
	// RFC 5321 §4.5.3.1.3 minus its angle brackets (RFC 3696 errata 1690).
	MaxAddressOctets = 254
	// MaxNameRunes is the longest display name we accept, in characters.
	// RFC 5322 sets no limit; 256 is far above any real name and keeps a
	// folded header field small.
	MaxNameRunes = 256

	// maxEncodedWord is the longest RFC 2047 encoded word (RFC 2047 §2).
	maxEncodedWord = 75

	// maxRawDomainOctets bounds the input handed to the IDNA mapper, which
	// may shrink it (full-width letters, ignored code points). Anything
	// longer cannot map to a valid domain.
	maxRawDomainOctets = 4 * MaxDomainOctets
)

// Reasons carried by [InvalidError]. They are stable so that callers can map
// them to field-level messages, and they never include the input.
const (
	reasonEmpty          = "address is empty"
	reasonUTF8           = "address is not valid UTF-8"
	reasonControl        = "address contains a control character"
	reasonSpace          = "address contains whitespace"
	reasonBrackets       = "address has angle brackets; pass a bare address"
	reasonNoAt           = "address has no @"
	reasonManyAt         = "address has more than one @"
	reasonTooLong        = "address longer than 254 octets"
	reasonLocalEmpty     = "local part is empty"
	reasonLocalQuoted    = "quoted local part is not supported"
	reasonLocalUTF8      = "non-ASCII local part needs SMTPUTF8, which is not offered"
	reasonLocalTooLong   = "local part longer than 64 octets"
	reasonLocalChar      = "local part has an invalid character"
	reasonLocalDot       = "local part has a leading, trailing or repeated dot"
	reasonDomainEmpty    = "domain is empty"
	reasonDomainLiteral  = "address literal domain is not supported"
	reasonDomainIDN      = "invalid internationalised domain"
	reasonDomainTooLong  = "domain longer than 255 octets"
	reasonDomainNoDot    = "domain has no dot"
	reasonLabelEmpty     = "domain label is empty"
	reasonLabelTooLong   = "domain label too long"
	reasonLabelChar      = "domain label has an invalid character"
	reasonLabelHyphen    = "domain label starts or ends with a hyphen"
	reasonTLDNumeric     = "top-level domain is numeric"
	reasonNameUTF8       = "display name is not valid UTF-8"
	reasonNameControl    = "display name contains a control character"
	reasonNameSeparator  = "display name contains a line separator"
	reasonNameTooLong    = "display name longer than 256 characters"
	reasonNameEncodedCtl = "display name has an encoded word that decodes to a control character"
)

// Address is a validated mailbox. Email is ASCII with a lower-case domain
// (internationalised domains as A-labels); Name is an optional display name
// in UTF-8 on a single line. Build it with [Parse] or [ParseWithName]; the
// zero Address is not valid.
type Address struct {
	Name  string
	Email string
}

// Parse validates and normalises a bare addr-spec such as
// "pat@example.test". See the package documentation for what is accepted.
func Parse(email string) (Address, error) {
	normalised, err := parseEmail(email)
	if err != nil {
		return Address{}, err
	}

	return Address{Email: normalised}, nil
}

// ParseWithName is [Parse] plus a display name, which may be empty.
func ParseWithName(name, email string) (Address, error) {
	if err := checkName(name); err != nil {
		return Address{}, err
	}

	addr, err := Parse(email)
	if err != nil {
		return Address{}, err
	}

	addr.Name = name

	return addr, nil
}

// Domain returns the domain of the address: everything after the @.
func (a Address) Domain() string {
	at := strings.LastIndexByte(a.Email, '@')
	if at < 0 {
		return ""
	}

	return a.Email[at+1:]
}

// LogValue implements [slog.LogValuer]. It logs only the domain, never the
// local part or the display name.
func (a Address) LogValue() slog.Value {
	return slog.GroupValue(slog.String("domain", a.Domain()))
}

// String returns the mailbox in RFC 5322 §3.4 form, unfolded: the bare
// address when there is no display name, otherwise the name (as atoms, a
// quoted string, or RFC 2047 "B" encoded words when it is not ASCII or
// contains "=?") followed by the address in angle brackets.
//
// String returns personal data: never log it. The gateway/mime package does
// its own encoding and folding for the wire and does not use String.
func (a Address) String() string {
	if a.Name == "" {
		return a.Email
	}

	return formatName(a.Name) + " <" + a.Email + ">"
}

func parseEmail(email string) (string, error) {
	if err := checkEmailChars(email); err != nil {
		return "", err
	}

	at := strings.IndexByte(email, '@')
	switch {
	case at < 0:
		return "", invalid(reasonNoAt)
	case strings.IndexByte(email[at+1:], '@') >= 0:
		return "", invalid(reasonManyAt)
	}

	local, domain := email[:at], email[at+1:]
	if err := checkLocalPart(local); err != nil {
		return "", err
	}

	domain, err := normaliseDomain(domain)
	if err != nil {
		return "", err
	}

	normalised := local + "@" + domain
	if len(normalised) > MaxAddressOctets {
		return "", invalid(reasonTooLong)
	}

	return normalised, nil
}

// checkEmailChars rejects inputs that cannot be an addr-spec at all, with a
// reason that points at the most likely mistake.
func checkEmailChars(email string) error {
	if email == "" {
		return invalid(reasonEmpty)
	}

	if !utf8.ValidString(email) {
		return invalid(reasonUTF8)
	}

	if strings.ContainsFunc(email, unicode.IsControl) {
		return invalid(reasonControl)
	}

	if strings.HasPrefix(email, "\"") {
		return invalid(reasonLocalQuoted)
	}

	if strings.ContainsFunc(email, unicode.IsSpace) {
		return invalid(reasonSpace)
	}

	if strings.ContainsAny(email, "<>") {
		return invalid(reasonBrackets)
	}

	return nil
}

func checkLocalPart(local string) error {
	if local == "" {
		return invalid(reasonLocalEmpty)
	}

	for i := 0; i < len(local); i++ {
		if local[i] >= utf8.RuneSelf {
			return invalid(reasonLocalUTF8)
		}
	}

	if len(local) > MaxLocalPartOctets {
		return invalid(reasonLocalTooLong)
	}

	prevDot := true // a leading dot counts as repeated
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c == '.' {
			if prevDot {
				return invalid(reasonLocalDot)
			}
			prevDot = true

			continue
		}

		if !IsAtext(c) {
			return invalid(reasonLocalChar)
		}
		prevDot = false
	}

	if prevDot {
		return invalid(reasonLocalDot)
	}

	return nil
}

// normaliseDomain returns the lower-case ASCII form of domain. Pure ASCII
// domains are checked directly; anything else, and any ASCII domain holding
// an A-label, goes through the IDNA lookup profile, whose output must be
// stable under a second conversion so that Parse(a.Email) == a.
func normaliseDomain(domain string) (string, error) {
	if domain == "" {
		return "", invalid(reasonDomainEmpty)
	}

	if domain[0] == '[' {
		return "", invalid(reasonDomainLiteral)
	}

	if len(domain) > maxRawDomainOctets {
		return "", invalid(reasonDomainTooLong)
	}

	if isASCII(domain) {
		domain = strings.ToLower(domain)
		if err := checkLabels(domain); err != nil {
			return "", err
		}

		if !hasALabel(domain) {
			return domain, nil
		}
	}

	// The idna errors quote their input, so they are replaced, not wrapped.
	ascii, err := idna.Lookup.ToASCII(domain)
	if err != nil {
		return "", invalid(reasonDomainIDN)
	}

	again, err := idna.Lookup.ToASCII(ascii)
	if err != nil || again != ascii || !isASCII(ascii) {
		return "", invalid(reasonDomainIDN)
	}

	ascii = strings.ToLower(ascii)
	if err := checkLabels(ascii); err != nil {
		return "", err
	}

	return ascii, nil
}

// checkLabels applies the host name rules of RFC 1123 §2.1 and RFC 3696 §2 to
// a lower-case ASCII domain.
func checkLabels(domain string) error {
	if len(domain) > MaxDomainOctets {
		return invalid(reasonDomainTooLong)
	}

	if !strings.Contains(domain, ".") {
		return invalid(reasonDomainNoDot)
	}

	var label string
	for rest := domain; rest != ""; {
		label, rest, _ = strings.Cut(rest, ".")
		if err := checkLabel(label); err != nil {
			return err
		}
	}

	if strings.HasSuffix(domain, ".") {
		return invalid(reasonLabelEmpty)
	}

	if isNumeric(label) {
		return invalid(reasonTLDNumeric)
	}

	return nil
}

func checkLabel(label string) error {
	switch {
	case label == "":
		return invalid(reasonLabelEmpty)
	case len(label) > MaxLabelOctets:
		return invalid(reasonLabelTooLong)
	}

	for i := 0; i < len(label); i++ {
		c := label[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return invalid(reasonLabelChar)
		}
	}

	if label[0] == '-' || label[len(label)-1] == '-' {
		return invalid(reasonLabelHyphen)
	}

	return nil
}

func checkName(name string) error {
	if !utf8.ValidString(name) {
		return invalid(reasonNameUTF8)
	}

	if utf8.RuneCountInString(name) > MaxNameRunes {
		return invalid(reasonNameTooLong)
	}

	for _, r := range name {
		switch {
		case unicode.IsControl(r):
			return invalid(reasonNameControl)
		case r == '\u2028' || r == '\u2029':
			return invalid(reasonNameSeparator)
		}
	}

	if DecodesToControl(name) {
		return invalid(reasonNameEncodedCtl)
	}

	return nil
}

// formatName renders a display name as an RFC 5322 phrase.
func formatName(name string) string {
	switch {
	case !isASCII(name) || strings.Contains(name, "=?"):
		return encodeWords(name)
	case IsAtomPhrase(name):
		return name
	}

	var b strings.Builder
	b.Grow(len(name) + 2)
	b.WriteByte('"')
	for i := 0; i < len(name); i++ {
		if name[i] == '"' || name[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(name[i])
	}
	b.WriteByte('"')

	return b.String()
}

// encodeWords renders s as RFC 2047 "B" encoded words separated by spaces,
// each within the 75-character limit of RFC 2047 §2 and never splitting a
// character. Unlike mime.BEncoding it encodes ASCII input too.
func encodeWords(s string) string {
	const prefix, suffix = "=?UTF-8?B?", "?="
	const maxChunk = (maxEncodedWord - len(prefix) - len(suffix)) / 4 * 3

	var b strings.Builder
	for s != "" {
		n := 0
		for n < len(s) {
			_, size := utf8.DecodeRuneInString(s[n:])
			if n+size > maxChunk {
				break
			}
			n += size
		}

		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(prefix)
		b.WriteString(base64.StdEncoding.EncodeToString([]byte(s[:n])))
		b.WriteString(suffix)
		s = s[n:]
	}

	return b.String()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}

	return true
}

func isNumeric(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}

	return s != ""
}

func hasALabel(domain string) bool {
	return strings.HasPrefix(domain, "xn--") || strings.Contains(domain, ".xn--")
}
