package mime

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sealpost/sealpost/gateway/address"
)

// Field limits.
const (
	// MaxMessageIDOctets bounds MessageID. RFC 5322 §3.6.4 sets no limit;
	// 250 keeps "Message-ID: <id>" and every References entry that repeats
	// it well inside a 998-octet line.
	MaxMessageIDOctets = 250
	// MaxHeaderNameOctets bounds an extra header's name so that the name
	// and its colon fit a 78-octet line (RFC 5322 §2.1.1).
	MaxHeaderNameOctets = 76

	dateLayout = "Mon, 02 Jan 2006 15:04:05 -0700" // RFC 5322 §3.3
)

// reservedHeaders are the fields Message writes itself, or that only a
// relay or signer may add; an extra header may not use these names, nor any
// name starting with "Content-".
var reservedHeaders = map[string]bool{
	"from": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"sender": true, "subject": true, "date": true, "message-id": true,
	"mime-version": true, "return-path": true, "received": true,
	"dkim-signature": true,
}

// Header is an extra header field, such as List-Unsubscribe or References.
// Name must be letters, digits and inner hyphens, and not a field Message
// writes itself or that relays and signers add. Value must be printable
// ASCII (RFC 2047-encode unstructured text that needs more). Values are
// folded at single spaces; a value with a run of more than about 990 octets
// without one is refused.
type Header struct {
	Name  string
	Value string
}

// Message is one outbound email, built into RFC 5322 bytes by [Message.Bytes]
// and [Message.WriteTo]. Every field is validated on each build; nothing in
// it is trusted to be safe for the wire.
type Message struct {
	From    address.Address
	To      []address.Address
	ReplyTo *address.Address
	// Subject is UTF-8 on one line; any control character is refused.
	Subject string
	// Date must be set; it is written in its own time zone.
	Date time.Time
	// MessageID is written without angle brackets, as dot-atom "@"
	// dot-atom, for example "0190...@example.test" (see [NewMessageID]).
	MessageID string
	// Headers are written after MIME-Version, in order.
	Headers []Header
	// Text is the text/plain part, in UTF-8 with any newline style.
	Text string
	// HTML is the text/html part. When empty the message is a single
	// text/plain part; when set, Text must be set too.
	HTML string

	// boundary overrides the random multipart boundary; tests only.
	boundary string
}

// Bytes validates m and returns the complete message: headers, then a
// quoted-printable body that is either one text/plain part or a
// multipart/alternative of text/plain then text/html. The result is 7-bit
// ASCII with CRLF line ends only, no line longer than 998 octets, no line
// starting with ".", and ends in CRLF, so it can go into SMTP DATA as is.
//
// Headers come in this order: Date, From, To, Reply-To (when set), Subject,
// Message-ID, MIME-Version, the extra Headers, then Content-Type (and
// Content-Transfer-Encoding for a single part). There is never a Bcc.
//
// Errors are *FieldError values matching ErrHeaderInjection or
// ErrInvalidField; they name the field, never its value.
func (m *Message) Bytes() ([]byte, error) {
	buf, err := m.build()
	if err != nil {
		return nil, err
	}

	return buf.Bytes(), nil
}

// WriteTo builds the message as [Message.Bytes] does and writes it to w. It
// writes nothing when the message is invalid.
func (m *Message) WriteTo(w io.Writer) (int64, error) {
	buf, err := m.build()
	if err != nil {
		return 0, err
	}

	n, err := buf.WriteTo(w)
	if err != nil {
		return n, fmt.Errorf("write message: %w", err)
	}

	return n, nil
}

func (m *Message) build() (*bytes.Buffer, error) {
	from, to, replyTo, err := m.validate()
	if err != nil {
		return nil, err
	}

	boundary := m.boundary
	if boundary == "" && m.HTML != "" {
		boundary = newBoundary()
	}

	buf := new(bytes.Buffer)
	buf.Grow(m.sizeHint())

	h := &headerWriter{buf: buf}
	m.writeHeaders(h, from, to, replyTo)
	if h.err != nil {
		return nil, h.err
	}

	if m.HTML == "" {
		writePartHeaders(buf, "text/plain")
		buf.WriteString("\r\n")
		writeQuotedPrintable(buf, m.Text, true)

		return buf, nil
	}

	buf.WriteString("Content-Type: multipart/alternative; boundary=\"")
	buf.WriteString(boundary)
	buf.WriteString("\"\r\n\r\n")
	for _, part := range [...]struct{ mediaType, body string }{
		{"text/plain", m.Text},
		{"text/html", m.HTML},
	} {
		buf.WriteString("--")
		buf.WriteString(boundary)
		buf.WriteString("\r\n")
		writePartHeaders(buf, part.mediaType)
		buf.WriteString("\r\n")
		writeQuotedPrintable(buf, part.body, false)
		buf.WriteString("\r\n")
	}
	buf.WriteString("--")
	buf.WriteString(boundary)
	buf.WriteString("--\r\n")

	return buf, nil
}

func writePartHeaders(buf *bytes.Buffer, mediaType string) {
	buf.WriteString("Content-Type: ")
	buf.WriteString(mediaType)
	buf.WriteString("; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n")
}

func (m *Message) writeHeaders(h *headerWriter, from address.Address,
	to []address.Address, replyTo *address.Address,
) {
	h.open("Date")
	h.token("date", m.Date.Format(dateLayout))
	h.close()

	h.open("From")
	h.mailbox("from", from, false)
	h.close()

	h.open("To")
	for i, a := range to {
		h.mailbox("to["+strconv.Itoa(i)+"]", a, i+1 < len(to))
	}
	h.close()

	if replyTo != nil {
		h.open("Reply-To")
		h.mailbox("reply_to", *replyTo, false)
		h.close()
	}

	h.open("Subject")
	switch {
	case m.Subject == "":
	case plainFits(m.Subject, len("Subject")):
		h.foldable("subject", m.Subject)
	default:
		h.encodedWords(m.Subject)
	}
	h.close()

	h.open("Message-ID")
	h.token("message_id", "<"+m.MessageID+">")
	h.close()

	h.buf.WriteString("MIME-Version: 1.0\r\n")

	for i, x := range m.Headers {
		h.open(x.Name)
		h.foldable("headers["+strconv.Itoa(i)+"].value", x.Value)
		h.close()
	}
}

// mailbox writes a as "name <addr>" or a bare address, with a trailing
// comma when more follow. The display name is a phrase of atoms when it can
// be, a quoted string when it is ASCII, and encoded words otherwise.
func (h *headerWriter) mailbox(field string, a address.Address, comma bool) {
	email := a.Email
	if a.Name != "" {
		email = "<" + email + ">"
		switch {
		case !isPrintableASCII(a.Name) || strings.Contains(a.Name, "=?"):
			h.encodedWords(a.Name)
		case address.IsAtomPhrase(a.Name):
			h.foldable(field, a.Name)
		default:
			h.foldable(field, quoteString(a.Name))
		}
	}

	if comma {
		email += ","
	}
	h.token(field, email)
}

// validate checks every field and returns the normalised addresses.
func (m *Message) validate() (address.Address, []address.Address, *address.Address, error) {
	from, err := checkMailbox("from", m.From)
	if err != nil {
		return address.Address{}, nil, nil, err
	}

	if len(m.To) == 0 {
		return address.Address{}, nil, nil, invalidField("to", "is required")
	}

	to := make([]address.Address, len(m.To))
	for i, a := range m.To {
		if to[i], err = checkMailbox("to["+strconv.Itoa(i)+"]", a); err != nil {
			return address.Address{}, nil, nil, err
		}
	}

	var replyTo *address.Address
	if m.ReplyTo != nil {
		a, err := checkMailbox("reply_to", *m.ReplyTo)
		if err != nil {
			return address.Address{}, nil, nil, err
		}
		replyTo = &a
	}

	if err := m.checkFields(); err != nil {
		return address.Address{}, nil, nil, err
	}

	return from, to, replyTo, nil
}

func (m *Message) checkFields() error {
	if err := checkText("subject", m.Subject); err != nil {
		return err
	}

	if m.Date.IsZero() {
		return invalidField("date", "is required")
	}

	if y := m.Date.Year(); y < 1900 || y > 9999 {
		return invalidField("date", "year outside 1900-9999") // RFC 5322 §3.3
	}

	if err := checkMessageID(m.MessageID); err != nil {
		return err
	}

	for i, x := range m.Headers {
		if err := checkHeader(i, x); err != nil {
			return err
		}
	}

	if m.HTML != "" && m.Text == "" {
		return invalidField("text", "is required when html is set")
	}

	for _, body := range [...]struct{ field, s string }{{"text", m.Text}, {"html", m.HTML}} {
		if !utf8.ValidString(body.s) {
			return invalidField(body.field, "is not valid UTF-8")
		}
	}

	return nil
}

// checkMailbox refuses line breaks itself, so that they always match
// ErrHeaderInjection, then lets the address package validate and normalise.
func checkMailbox(field string, a address.Address) (address.Address, error) {
	if hasLineBreak(a.Name) || hasLineBreak(a.Email) {
		return address.Address{}, injection(field)
	}

	if address.DecodesToControl(a.Name) {
		return address.Address{}, encodedInjection(field)
	}

	if a.Email == "" {
		return address.Address{}, invalidField(field, "is required")
	}

	parsed, err := address.ParseWithName(a.Name, a.Email)
	if err != nil {
		return address.Address{}, &FieldError{
			Field:  field,
			Reason: err.Error(),
			kind:   ErrInvalidField,
			cause:  err,
		}
	}

	return parsed, nil
}

// checkText validates a single-line UTF-8 header text such as the subject.
func checkText(field, s string) error {
	switch {
	case hasLineBreak(s):
		return injection(field)
	case !utf8.ValidString(s):
		return invalidField(field, "is not valid UTF-8")
	case strings.ContainsFunc(s, unicode.IsControl):
		return invalidField(field, "contains a control character")
	case strings.ContainsAny(s, "\u2028\u2029"):
		return invalidField(field, "contains a line separator")
	case address.DecodesToControl(s):
		return encodedInjection(field)
	}

	return nil
}

func checkMessageID(id string) error {
	switch {
	case id == "":
		return invalidField("message_id", "is required")
	case hasLineBreak(id):
		return injection("message_id")
	case len(id) > MaxMessageIDOctets:
		return invalidField("message_id", "longer than 250 octets")
	}

	left, right, ok := strings.Cut(id, "@")
	if !ok || !isDotAtom(left) || !isDotAtom(right) {
		return invalidField("message_id", "is not dot-atom@dot-atom")
	}

	return nil
}

func checkHeader(i int, x Header) error {
	field := "headers[" + strconv.Itoa(i) + "]"
	if err := checkHeaderName(field+".name", x.Name); err != nil {
		return err
	}

	field += ".value"
	switch {
	case hasLineBreak(x.Value):
		return injection(field)
	case strings.ContainsFunc(x.Value, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }):
		return invalidField(field, "contains a control character")
	case strings.ContainsFunc(x.Value, func(r rune) bool { return r > '~' }):
		return invalidField(field, "is not ASCII")
	case address.DecodesToControl(x.Value):
		return encodedInjection(field)
	}

	return nil
}

// checkHeaderName accepts a field name of letters, digits and inner hyphens
// that is not reserved. RFC 5322 §3.6.8 allows any printable ASCII but the
// colon; every registered field name fits the narrower rule, and it keeps
// header lines from starting with "." or holding characters that other
// software treats specially.
func checkHeaderName(field, name string) error {
	switch {
	case hasLineBreak(name):
		return injection(field)
	case name == "":
		return invalidField(field, "is required")
	case len(name) > MaxHeaderNameOctets:
		return invalidField(field, "longer than 76 octets")
	}

	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
			return invalidField(field, "is not a valid header name")
		}
	}

	if name[0] == '-' || name[len(name)-1] == '-' {
		return invalidField(field, "is not a valid header name")
	}

	lower := strings.ToLower(name)
	if reservedHeaders[lower] || strings.HasPrefix(lower, "content-") {
		return invalidField(field, "is a reserved header")
	}

	return nil
}

// sizeHint estimates the built size so the buffer grows once.
func (m *Message) sizeHint() int {
	n := 512 + 3*len(m.Subject) + 3*len(m.From.Name) + len(m.MessageID)
	for _, a := range m.To {
		n += 8 + 3*len(a.Name) + len(a.Email)
	}

	for _, x := range m.Headers {
		n += len(x.Name) + len(x.Value) + 8
	}

	return n + quotedPrintableSize(m.Text) + quotedPrintableSize(m.HTML)
}

func hasLineBreak(s string) bool {
	return strings.ContainsAny(s, "\r\n\x00")
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < ' ' || s[i] > '~' {
			return false
		}
	}

	return true
}

// isDotAtom reports whether s is a dot-atom-text (RFC 5322 §3.2.3).
func isDotAtom(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}

	for i := 0; i < len(s); i++ {
		if s[i] != '.' && !address.IsAtext(s[i]) {
			return false
		}
	}

	return true
}

// quoteString renders printable ASCII s as an RFC 5322 §3.2.4 quoted string.
func quoteString(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 8)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' || s[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(s[i])
	}
	b.WriteByte('"')

	return b.String()
}
