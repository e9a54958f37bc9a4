package mime

import (
	"bytes"
	"errors"
	stdmime "mime"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/address"
)

func TestGolden(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		golden string
		edit   func(m *Message)
	}{
		{"alternative", "alternative.eml", func(*Message) {}},
		{"single part", "single.eml", func(m *Message) { m.HTML = "" }},
		{"non-ASCII subject and reply-to", "encoded.eml", func(m *Message) {
			m.Subject = "Ihre Bestellung ist unterwegs – 配送状況 🚚"
			m.ReplyTo = &address.Address{Name: `Support "Desk", Team`, Email: "help@example.test"}
			m.HTML = ""
		}},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			m := testMessage(t)
			tt.edit(m)

			got, err := m.Bytes()
			if err != nil {
				t.Fatalf("Bytes: %v", err)
			}
			checkWire(t, got)

			path := filepath.Join("testdata", tt.golden)
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}

			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create it): %v", err)
			}

			if !bytes.Equal(got, want) {
				t.Fatalf("output differs from %s:\n%s", path, got)
			}
		})
	}
}

func TestBytesReadsBack(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	p := parseMessage(t, b)
	if p.parts != 2 {
		t.Fatalf("parts = %d, want 2", p.parts)
	}

	if p.text != normaliseNewlines(m.Text) || p.html != normaliseNewlines(m.HTML) {
		t.Fatalf("bodies differ: %q / %q", p.text, p.html)
	}

	if got := p.header.Get("Subject"); got != m.Subject {
		t.Fatalf("Subject = %q", got)
	}

	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != "Zoë Ångström" ||
		to[0].Address != "pat@example.test" {
		t.Fatalf("To = %v, %v", to, err)
	}

	if got := p.header.Get("Message-Id"); got != "<"+m.MessageID+">" {
		t.Fatalf("Message-ID = %q", got)
	}

	date, err := p.header.Date()
	if err != nil || !date.Equal(m.Date) {
		t.Fatalf("Date = %v, %v", date, err)
	}
}

func TestHeaderOrder(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.ReplyTo = &address.Address{Email: "help@example.test"}
	m.Headers = append(m.Headers, Header{Name: "X-Sealpost-Message", Value: "m1"})

	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	var names []string
	for _, line := range strings.Split(head, "\r\n") {
		if line[0] != ' ' {
			name, _, _ := strings.Cut(line, ":")
			names = append(names, name)
		}
	}

	want := "Date From To Reply-To Subject Message-ID MIME-Version List-Unsubscribe " +
		"List-Unsubscribe-Post X-Sealpost-Message Content-Type"
	if got := strings.Join(names, " "); got != want {
		t.Fatalf("header order:\n got %s\nwant %s", got, want)
	}
}

func TestBoundary(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.boundary = ""

	first, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	second, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	re := regexp.MustCompile(`boundary="(=_[0-9a-f]{32})"`)
	a, b := re.FindSubmatch(first), re.FindSubmatch(second)
	if a == nil || b == nil {
		t.Fatalf("no random boundary in output")
	}

	if bytes.Equal(a[1], b[1]) {
		t.Fatalf("two builds share a boundary")
	}

	if n := bytes.Count(first, a[1]); n != 4 {
		t.Fatalf("boundary occurs %d times, want 4 (parameter, 2 parts, close)", n)
	}

	parseMessage(t, first)
}

func TestMultipleRecipients(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.To = append(m.To,
		address.Address{Email: "sam@example.test"},
		address.Address{Name: "Lee, R.", Email: "lee@Example.TEST"},
	)

	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	to, err := parseMessage(t, b).header.AddressList("To")
	if err != nil {
		t.Fatal(err)
	}

	if len(to) != 3 || to[1].Address != "sam@example.test" || to[2].Name != "Lee, R." ||
		to[2].Address != "lee@example.test" {
		t.Fatalf("To = %v", to)
	}

	if bytes.Contains(bytes.ToLower(b), []byte("\r\nbcc:")) {
		t.Fatalf("output has a Bcc field")
	}
}

func TestWriteTo(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	want, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	n, err := m.WriteTo(&buf)
	if err != nil || n != int64(len(want)) || !bytes.Equal(buf.Bytes(), want) {
		t.Fatalf("WriteTo = %d, %v; output differs from Bytes", n, err)
	}

	m.Subject = "bad\r\nBcc: spy@attacker.test"
	buf.Reset()
	if n, err := m.WriteTo(&buf); err == nil || n != 0 || buf.Len() != 0 {
		t.Fatalf("WriteTo of an invalid message = %d, %v, wrote %d", n, err, buf.Len())
	}
}

func TestFieldErrors(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		edit   func(m *Message)
		field  string
		kind   error
		reason string
	}{
		{"no from", func(m *Message) { m.From = address.Address{} },
			"from", ErrInvalidField, "is required"},
		{"no to", func(m *Message) { m.To = nil }, "to", ErrInvalidField, "is required"},
		{"bad to", func(m *Message) { m.To[0].Email = "pat@localhost" },
			"to[0]", ErrInvalidField, "invalid address: domain has no dot"},
		{"bad reply-to", func(m *Message) { m.ReplyTo = &address.Address{Email: "x"} },
			"reply_to", ErrInvalidField, "invalid address: address has no @"},
		{"no date", func(m *Message) { m.Date = m.Date.AddDate(-2025, 0, 0) },
			"date", ErrInvalidField, "year outside 1900-9999"},
		{"no message id", func(m *Message) { m.MessageID = "" },
			"message_id", ErrInvalidField, "is required"},
		{"message id with brackets", func(m *Message) { m.MessageID = "<a@example.test>" },
			"message_id", ErrInvalidField, "is not dot-atom@dot-atom"},
		{"message id too long", func(m *Message) {
			m.MessageID = strings.Repeat("a", 245) + "@example.test"
		}, "message_id", ErrInvalidField, "longer than 250 octets"},
		{"subject control", func(m *Message) { m.Subject = "a\x1bb" },
			"subject", ErrInvalidField, "contains a control character"},
		{"subject tab", func(m *Message) { m.Subject = "a\tb" },
			"subject", ErrInvalidField, "contains a control character"},
		{"subject bad UTF-8", func(m *Message) { m.Subject = "a\xffb" },
			"subject", ErrInvalidField, "is not valid UTF-8"},
		{"subject line separator", func(m *Message) { m.Subject = "a\u2028b" },
			"subject", ErrInvalidField, "contains a line separator"},
		{"reserved header", func(m *Message) { m.Headers = []Header{{"bcc", "x"}} },
			"headers[0].name", ErrInvalidField, "is a reserved header"},
		{"content header", func(m *Message) { m.Headers = []Header{{"Content-Disposition", "x"}} },
			"headers[0].name", ErrInvalidField, "is a reserved header"},
		{"DKIM header", func(m *Message) { m.Headers = []Header{{"DKIM-Signature", "v=1"}} },
			"headers[0].name", ErrInvalidField, "is a reserved header"},
		{"header name with colon", func(m *Message) { m.Headers = []Header{{"X-A:b", "x"}} },
			"headers[0].name", ErrInvalidField, "is not a valid header name"},
		{"header name with space", func(m *Message) { m.Headers = []Header{{"X A", "x"}} },
			"headers[0].name", ErrInvalidField, "is not a valid header name"},
		{"empty header name", func(m *Message) { m.Headers = []Header{{"", "x"}} },
			"headers[0].name", ErrInvalidField, "is required"},
		{"header value not ASCII", func(m *Message) { m.Headers = []Header{{"X-A", "é"}} },
			"headers[0].value", ErrInvalidField, "is not ASCII"},
		{"header value control", func(m *Message) { m.Headers = []Header{{"X-A", "a\x7f"}} },
			"headers[0].value", ErrInvalidField, "contains a control character"},
		{"header name with dot", func(m *Message) { m.Headers = []Header{{".X", "x"}} },
			"headers[0].name", ErrInvalidField, "is not a valid header name"},
		{"header name with hyphen end", func(m *Message) { m.Headers = []Header{{"X-", "x"}} },
			"headers[0].name", ErrInvalidField, "is not a valid header name"},
		{"zero date", func(m *Message) { m.Date = time.Time{} },
			"date", ErrInvalidField, "is required"},
		{"header value unfoldable", func(m *Message) {
			m.Headers = []Header{{"X-A", strings.Repeat("a", 1000)}}
		}, "headers[0].value", ErrInvalidField, "has a run too long to fold within 998 octets"},
		{"html without text", func(m *Message) { m.Text = "" },
			"text", ErrInvalidField, "is required when html is set"},
		{"html bad UTF-8", func(m *Message) { m.HTML = "<p>\xff</p>" },
			"html", ErrInvalidField, "is not valid UTF-8"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			m := testMessage(t)
			tt.edit(m)

			b, err := m.Bytes()
			if b != nil {
				t.Fatalf("Bytes returned output with error %v", err)
			}
			assertFieldError(t, err, tt.field, tt.kind)

			var fe *FieldError
			errors.As(err, &fe)
			if fe.Reason != tt.reason {
				t.Fatalf("Reason = %q, want %q", fe.Reason, tt.reason)
			}
		})
	}
}

func TestAddressErrorsUnwrap(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.To[0].Email = "päť@example.test"

	_, err := m.Bytes()
	if !errors.Is(err, address.ErrInvalid) || !errors.Is(err, ErrInvalidField) {
		t.Fatalf("error %v does not match address.ErrInvalid and ErrInvalidField", err)
	}

	if strings.Contains(err.Error(), "päť") {
		t.Fatalf("error repeats the address")
	}
}

func TestAddressesNormalised(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.To = []address.Address{{Email: "Pat@Bücher.Example"}}

	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}

	if got, _ := rawField(t, b, "To"); got != "Pat@xn--bcher-kva.example" {
		t.Fatalf("To = %q", got)
	}
}

func TestEmptyBodies(t *testing.T) {
	t.Parallel()

	m := testMessage(t)
	m.Text, m.HTML, m.Subject = "", "", ""

	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkWire(t, b)

	p := parseMessage(t, b)
	if p.text != "" || p.header.Get("Subject") != "" {
		t.Fatalf("read back %+v", p)
	}
}

func TestSubjectLooksLikeEncodedWord(t *testing.T) {
	t.Parallel()

	for _, subject := range []string{
		"=?UTF-8?Q?Hi_there?=",
		"Re: =?ISO-8859-1?B?SGk=?= and more",
		"=?",
	} {
		m := testMessage(t)
		m.Subject = subject

		b, err := m.Bytes()
		if err != nil {
			t.Fatalf("Bytes: %v", err)
		}

		raw, _ := rawField(t, b, "Subject")
		if raw == subject || !strings.HasPrefix(raw, "=?UTF-8?") {
			t.Fatalf("subject written literally: %q", raw)
		}

		if got := parseMessage(t, b).header.Get("Subject"); decodeHeader(t, got) != subject {
			t.Fatalf("subject decodes to %q, want %q", decodeHeader(t, got), subject)
		}
	}
}

func TestNewMessageID(t *testing.T) {
	t.Parallel()

	a, b := NewMessageID("example.test"), NewMessageID("example.test")
	if a == b {
		t.Fatalf("two ids are equal")
	}

	if !regexp.MustCompile(`^[0-9a-f]{32}@example\.test$`).MatchString(a) {
		t.Fatalf("id %q has the wrong form", a)
	}

	if err := checkMessageID(a); err != nil {
		t.Fatalf("id refused: %v", err)
	}
}

func assertFieldError(t *testing.T, err error, field string, kind error) {
	t.Helper()

	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("error %v is not a *FieldError", err)
	}

	if fe.Field != field {
		t.Fatalf("Field = %q, want %q", fe.Field, field)
	}

	if !errors.Is(err, kind) {
		t.Fatalf("error %v does not match %v", err, kind)
	}
}

func decodeHeader(t testing.TB, s string) string {
	t.Helper()

	d, err := new(stdmime.WordDecoder).DecodeHeader(s)
	if err != nil {
		t.Fatalf("decode %q: %v", s, err)
	}

	return d
}

func TestNextWordPicksShorterEncoding(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		input string
		useB  bool
		n     int
	}{
		// 63 characters of room: Q carries 63 ASCII bytes, B only 45.
		{"ASCII prefers Q", strings.Repeat("a", 100), false, 63},
		// Q needs 9 characters per ideograph (7 fit), B 4 per 3 bytes (15).
		{"CJK prefers B", strings.Repeat("日", 30), true, 45},
		// Four-byte characters are never split: B fits 11 of them in 63.
		{"emoji stay whole", strings.Repeat("🙂", 30), true, 44},
		{"tie goes to Q", "ab", false, 2},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			n, useB := nextWord(tt.input, maxEncodedWord-wordFraming)
			if n != tt.n || useB != tt.useB {
				t.Fatalf("nextWord = %d, %v; want %d, %v", n, useB, tt.n, tt.useB)
			}
		})
	}
}
