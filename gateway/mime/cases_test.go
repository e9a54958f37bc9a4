package mime

import (
	"bytes"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	stdmime "mime"

	"github.com/sealpost/sealpost/gateway/address"
)

// mixedText returns n characters cycling through 2-, 3- and 4-byte UTF-8,
// emoji included.
func mixedText(n int) string {
	cycle := []rune("éЖ中€ü🙂ß日𝄞ñ한🚚")
	var b strings.Builder
	for i := range n {
		b.WriteRune(cycle[i%len(cycle)])
	}

	return b.String()
}

var encodedWordRE = regexp.MustCompile(`=\?[^?]+\?[QB]\?[^?]*\?=`)

func TestCaseBL05LongHeaders(t *testing.T) {
	t.Parallel()

	subject := mixedText(300)
	name := mixedText(200)
	ids := make([]string, 50)
	for i := range ids {
		ids[i] = "<" + NewMessageID("mail.example.test") + ">"
	}
	references := strings.Join(ids, " ")

	m := testMessage(t)
	m.Subject = subject
	m.To = []address.Address{{Name: name, Email: "pat@example.test"}}
	m.Headers = append(m.Headers, Header{Name: "References", Value: references})

	b, err := m.Bytes()
	if err != nil {
		t.Fatalf("Bytes: %v", err)
	}
	checkWire(t, b)

	for _, field := range []string{"Subject", "To", "References"} {
		t.Run(field, func(t *testing.T) {
			t.Parallel()

			_, lines := rawField(t, b, field)
			if len(lines) < 2 {
				t.Fatalf("%s was not folded", field)
			}

			for i, line := range lines {
				if len(line) > foldTarget {
					t.Fatalf("line %d has %d octets: %q", i, len(line), line)
				}

				if i > 0 && (line[0] != ' ' || strings.TrimSpace(line) == "") {
					t.Fatalf("continuation line %d is malformed: %q", i, line)
				}
			}

			raw, _ := rawField(t, b, field)
			for _, word := range encodedWordRE.FindAllString(raw, -1) {
				if len(word) > maxEncodedWord {
					t.Fatalf("encoded word of %d characters", len(word))
				}

				// Each word must decode to whole characters on its own.
				decoded, err := new(stdmime.WordDecoder).Decode(word)
				if err != nil || !utf8.ValidString(decoded) {
					t.Fatalf("word %q splits a character (%v)", word, err)
				}
			}
		})
	}

	raw, _ := rawField(t, b, "Subject")
	if got := decodeHeader(t, raw); got != subject {
		t.Fatalf("strictly unfolded subject decodes to %q", got)
	}

	p := parseMessage(t, b)
	if got := decodeHeader(t, p.header.Get("Subject")); got != subject {
		t.Fatalf("net/mail subject decodes to %q", got)
	}

	to, err := p.header.AddressList("To")
	if err != nil || len(to) != 1 || to[0].Name != name || to[0].Address != "pat@example.test" {
		t.Fatalf("To read back as %v, %v", to, err)
	}

	if raw, _ := rawField(t, b, "References"); raw != references {
		t.Fatalf("References unfolds to a different value")
	}

	if got := p.header.Get("References"); got != references {
		t.Fatalf("net/mail References differs")
	}
}

func TestCaseBL05ASCIIQuotedName(t *testing.T) {
	t.Parallel()

	name := strings.Repeat(`Dr. "Pat" \ Smith, `, 13) // 247 characters
	m := testMessage(t)
	m.To = []address.Address{{Name: name, Email: "pat@example.test"}}

	b, err := m.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	checkWire(t, b)

	_, lines := rawField(t, b, "To")
	for _, line := range lines {
		if len(line) > foldTarget {
			t.Fatalf("line of %d octets", len(line))
		}
	}

	to, err := parseMessage(t, b).header.AddressList("To")
	if err != nil || to[0].Name != name {
		t.Fatalf("To read back as %v, %v", to, err)
	}
}

// bl07HTML returns about 5,000 characters of minified HTML on one line in
// which the characters c, A, F and = each fall right after a soft break, and
// = also falls where its "=3D" would sit at columns 73-75, 74-76 and 75-77.
func bl07HTML() string {
	const filler = "<td><b>order</b><i>shipped</i><u>today</u><s>x</s><p>tracking</p>"

	var b strings.Builder
	padTo := func(col int) {
		for k := 0; encodedColumn(b.String()) != col; k++ {
			b.WriteByte(filler[k%len(filler)])
		}
	}

	for b.Len() < 5000 {
		for _, c := range []byte("cAF=") {
			padTo(maxQPLine - 1)
			b.WriteByte(c)
		}

		for _, col := range []int{72, 73, 74} {
			padTo(col)
			b.WriteByte('=')
		}
	}

	return b.String()
}

// encodedColumn returns how many characters the last encoded line of s holds
// when more text follows.
func encodedColumn(s string) int {
	var buf bytes.Buffer
	writeQuotedPrintable(&buf, s, true)
	out := strings.TrimSuffix(buf.String(), "=\r\n")

	return len(out) - strings.LastIndex(out, "\r\n") - 2
}

func TestCaseBL07QuotedPrintable(t *testing.T) {
	t.Parallel()

	url := "https://example.test/track?t=" + strings.Repeat("aZ9-_.~%3D", 297)
	tests := []struct {
		name string
		html string
	}{
		{"minified HTML", bl07HTML()},
		{"3000-character URL", `<a href="` + url + `">Track</a>`},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			m := testMessage(t)
			m.HTML = tt.html

			b, err := m.Bytes()
			if err != nil {
				t.Fatal(err)
			}
			lines := checkWire(t, b)

			if got := parseMessage(t, b).html; got != tt.html {
				t.Fatalf("decoded HTML differs from the input")
			}

			starts := map[string]bool{}
			tripletAtEnd := false
			body := htmlBodyLines(t, lines)
			for i, line := range body {
				checkQPLine(t, line)
				if strings.HasSuffix(line, "=3D=") && len(line) == maxQPLine {
					tripletAtEnd = true
				}

				if i == 0 {
					continue
				}

				for _, s := range []string{"c", "A", "F", "=3D"} {
					if strings.HasPrefix(line, s) && strings.HasSuffix(body[i-1], "=") {
						starts[s] = true
					}
				}
			}

			if tt.name == "minified HTML" && (len(starts) != 4 || !tripletAtEnd) {
				t.Fatalf("soft breaks fell before only %v; triplet at 73-75: %v",
					starts, tripletAtEnd)
			}
		})
	}
}

// htmlBodyLines returns the encoded lines of the text/html part.
func htmlBodyLines(t *testing.T, lines []string) []string {
	t.Helper()

	for i, line := range lines {
		if line != "Content-Type: text/html; charset=utf-8" {
			continue
		}

		body := lines[i+3:] // after the encoding header and the blank line
		for j, l := range body {
			if strings.HasPrefix(l, "--=_") {
				return body[:j]
			}
		}
	}

	t.Fatalf("no text/html part")

	return nil
}

// checkQPLine asserts one encoded line is within 76 characters and has only
// whole "=XX" triplets, or a final "=" for a soft break.
func checkQPLine(t *testing.T, line string) {
	t.Helper()

	if len(line) > maxQPLine {
		t.Fatalf("quoted-printable line of %d characters", len(line))
	}

	for i := 0; i < len(line); i++ {
		if line[i] != '=' || i == len(line)-1 {
			continue
		}

		if i+2 >= len(line) || !isUpperHex(line[i+1]) || !isUpperHex(line[i+2]) {
			t.Fatalf("split or malformed triplet at column %d of %q", i+1, line)
		}
		i += 2
	}
}

func isUpperHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'A' && c <= 'F'
}

// endOfDataVariants are the sequences receivers have taken for the end of
// DATA; each must come out as plain CRLF line breaks and "=2E".
var endOfDataVariants = []string{
	"\r\n.\r\n", "\n.\r\n", "\n.\n", "\r\n.\r", "\r.\r", "\r.\n", "\r", "\n",
}

func smugglingPayload(eod string) string {
	return "ok" + eod + "MAIL FROM:<noreply@example.test>\r\n" +
		"RCPT TO:<victim@example.test>\r\nDATA\r\n" +
		"From: Billing <noreply@example.test>\r\n\r\nPay now" + eod
}

func TestCaseBL08SMTPSmuggling(t *testing.T) {
	t.Parallel()

	for _, eod := range endOfDataVariants {
		t.Run(fmt.Sprintf("%q", eod), func(t *testing.T) {
			t.Parallel()

			for _, html := range []bool{false, true} {
				m := testMessage(t)
				m.Text = smugglingPayload(eod)
				m.HTML = ""
				if html {
					m.HTML = "<pre>" + smugglingPayload(eod) + "</pre>"
				}

				b, err := m.Bytes()
				if err != nil {
					t.Fatal(err)
				}

				// No bare CR or LF, and no line starting with "." at all,
				// so none can equal ".".
				checkWire(t, b)

				p := parseMessage(t, b)
				if p.text != normaliseNewlines(m.Text) || p.html != normaliseNewlines(m.HTML) {
					t.Fatalf("bodies read back differ")
				}
			}
		})
	}
}

func TestCaseBL10HeaderInjection(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		edit  func(m *Message)
		field string
	}{
		{"subject CRLF Bcc", func(m *Message) {
			m.Subject = "Your order shipped\r\nBcc: spy@attacker.test"
		}, "subject"},
		{"display name CRLF", func(m *Message) { m.To[0].Name = "Pat\r\nX-Evil: 1" }, "to[0]"},
		{"custom header LF Bcc", func(m *Message) {
			m.Headers = []Header{{Name: "X-Ref", Value: "a\nBcc: spy@attacker.test"}}
		}, "headers[0].value"},
		{"subject encoded CRLF", func(m *Message) {
			m.Subject = "=?UTF-8?Q?Hi=0D=0ABcc:_spy@attacker.test?="
		}, "subject"},
		{
			"subject lone CR",
			func(m *Message) { m.Subject = "Hi\rBcc: spy@attacker.test" },
			"subject",
		},
		{"subject NUL", func(m *Message) { m.Subject = "Hi\x00spy" }, "subject"},
		{"from name LF", func(m *Message) { m.From.Name = "Shop\nBcc: spy@attacker.test" }, "from"},
		{"reply-to name CR", func(m *Message) {
			m.ReplyTo = &address.Address{Name: "Help\rX-Evil: 1", Email: "help@example.test"}
		}, "reply_to"},
		{"recipient email CRLF", func(m *Message) {
			m.To[0].Email = "pat@example.test\r\nBcc: spy@attacker.test"
		}, "to[0]"},
		{"display name encoded CRLF", func(m *Message) {
			m.To[0].Name = "=?UTF-8?Q?Pat=0D=0AX-Evil:_1?="
		}, "to[0]"},
		{"display name B-encoded LF", func(m *Message) {
			m.To[0].Name = "=?UTF-8?B?UGF0CkJjYzogc3B5QGF0dGFja2VyLnRlc3Q=?="
		}, "to[0]"},
		{"custom header encoded CRLF", func(m *Message) {
			m.Headers = []Header{
				{Name: "X-Ref", Value: "=?UTF-8?Q?a=0D=0ABcc:_spy@attacker.test?="},
			}
		}, "headers[0].value"},
		{"custom header name CRLF", func(m *Message) {
			m.Headers = []Header{{Name: "X-Ref\r\nBcc", Value: "spy@attacker.test"}}
		}, "headers[0].name"},
		{"message id CRLF", func(m *Message) {
			m.MessageID = "a@example.test>\r\nBcc: <spy@attacker.test"
		}, "message_id"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			m := testMessage(t)
			tt.edit(m)

			b, err := m.Bytes()
			if b != nil {
				t.Fatalf("Bytes returned output")
			}
			assertFieldError(t, err, tt.field, ErrHeaderInjection)

			for _, leak := range []string{"spy", "attacker", "Evil", "Pat"} {
				if strings.Contains(err.Error(), leak) {
					t.Fatalf("error %q echoes the value", err)
				}
			}

			if errors.Is(err, ErrInvalidField) {
				t.Fatalf("injection also matches ErrInvalidField")
			}
		})
	}
}
