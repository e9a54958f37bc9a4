package mime

import (
	"bytes"
	"io"
	"mime/quotedprintable"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/sealpost/sealpost/gateway/address"
)

// wantHeaderNames is the header block of testMessage; no input may add to it.
var wantHeaderNames = []string{
	"Content-Transfer-Encoding", "Content-Type", "Date", "From", "List-Unsubscribe",
	"List-Unsubscribe-Post", "Message-Id", "Mime-Version", "Subject", "To",
}

func FuzzEncodeHeader(f *testing.F) {
	for _, seed := range []string{
		"Your order has shipped",
		mixedText(120),
		"=?UTF-8?Q?Hi=0D=0ABcc:_x?=",
		"  leading and  double spaces ",
		strings.Repeat("x", 200),
		"Smith, \"PJ\" \\ Pat",
		"a\r\nBcc: spy@attacker.test",
	} {
		f.Add(seed, seed)
	}

	f.Fuzz(func(t *testing.T, subject, name string) {
		m := testMessage(t)
		m.Subject = subject
		m.To[0].Name = name
		m.HTML = ""

		b, err := m.Bytes()
		if err != nil {
			if checkText("subject", subject) == nil && nameAccepted(name) {
				t.Fatalf("valid subject and name refused: %v", err)
			}

			return
		}

		if checkText("subject", subject) != nil || !nameAccepted(name) {
			t.Fatalf("invalid subject or name accepted")
		}
		checkWire(t, b)

		for _, field := range []string{"Subject", "To"} {
			_, lines := rawField(t, b, field)
			for _, line := range lines {
				if len(line) > foldTarget && field == "Subject" {
					t.Fatalf("subject line of %d octets", len(line))
				}
			}
		}

		raw, _ := rawField(t, b, "Subject")
		if got := decodeHeader(t, raw); got != subject {
			t.Fatalf("strictly unfolded subject decodes to %q, want %q", got, subject)
		}

		p := parseMessage(t, b)
		if got := decodeHeader(t, p.header.Get("Subject")); got != subject {
			t.Fatalf("net/mail subject decodes to %q, want %q", got, subject)
		}

		to, err := p.header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Name != name {
			t.Fatalf("To read back as %v, %v; want name %q", to, err, name)
		}

		names := make([]string, 0, len(p.header))
		for k, v := range p.header {
			if len(v) != 1 {
				t.Fatalf("%d %s fields", len(v), k)
			}
			names = append(names, k)
		}
		slices.Sort(names)
		if !slices.Equal(names, wantHeaderNames) {
			t.Fatalf("header fields %v", names)
		}
	})
}

func nameAccepted(name string) bool {
	_, err := address.ParseWithName(name, "pat@example.test")

	return err == nil
}

func FuzzQuotedPrintable(f *testing.F) {
	for _, seed := range []string{
		"",
		"plain",
		".\r\n.\n.\r.",
		"From here\nFrom there",
		"trailing space \ntab\t\r\n",
		strings.Repeat("=", 100),
		bl07HTML()[:400],
		"\xff\x00\x80=_",
	} {
		f.Add([]byte(seed), false)
		f.Add([]byte(seed), true)
	}

	f.Fuzz(func(t *testing.T, data []byte, softEnd bool) {
		var buf bytes.Buffer
		writeQuotedPrintable(&buf, string(data), softEnd)
		out := buf.String()

		if strings.Contains(out, "=_") {
			t.Fatalf("output contains =_")
		}

		if softEnd && len(out) > 0 && !strings.HasSuffix(out, "\r\n") {
			t.Fatalf("soft-ended output does not end in CRLF")
		}

		for i := 0; i < len(out); i++ {
			c := out[i]
			switch {
			case c == '\r' && (i+1 == len(out) || out[i+1] != '\n'):
				t.Fatalf("bare CR")
			case c == '\n' && (i == 0 || out[i-1] != '\r'):
				t.Fatalf("bare LF")
			case c != '\r' && c != '\n' && c != '\t' && (c < ' ' || c > '~'):
				t.Fatalf("byte %#x in output", c)
			}
		}

		for _, line := range strings.Split(out, "\r\n") {
			checkQPLineFuzz(t, line)
		}

		got, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(out)))
		if err != nil {
			t.Fatalf("decode: %v", err)
		}

		if want := normaliseNewlines(string(data)); string(got) != want {
			t.Fatalf("decoded %q, want %q", got, want)
		}
	})
}

func checkQPLineFuzz(t *testing.T, line string) {
	t.Helper()

	switch {
	case len(line) > maxQPLine:
		t.Fatalf("line of %d characters", len(line))
	case strings.HasPrefix(line, "."):
		t.Fatalf("line starts with a dot")
	case strings.HasPrefix(line, "From "):
		t.Fatalf("line starts with From")
	case strings.HasSuffix(line, " ") || strings.HasSuffix(line, "\t"):
		t.Fatalf("line ends in whitespace")
	}

	for i := 0; i < len(line); i++ {
		if line[i] != '=' || i == len(line)-1 {
			continue
		}

		if i+2 >= len(line) || !isUpperHex(line[i+1]) || !isUpperHex(line[i+2]) {
			t.Fatalf("split or malformed triplet in %q", line)
		}
		i += 2
	}
}

func FuzzBytes(f *testing.F) {
	f.Add("Hello,\n\nYour order shipped.\n", "<p>Hello</p>")
	f.Add(smugglingPayload("\n.\n"), smugglingPayload("\r.\r"))
	f.Add("só texto", "")
	f.Add("", "")
	f.Add(".", ".")

	f.Fuzz(func(t *testing.T, text, html string) {
		m := testMessage(t)
		m.Text, m.HTML = text, html
		m.boundary = ""

		b, err := m.Bytes()
		valid := utf8.ValidString(text) && utf8.ValidString(html) && (html == "" || text != "")
		if (err == nil) != valid {
			t.Fatalf("Bytes error %v for valid=%v input", err, valid)
		}

		if err != nil {
			return
		}
		checkWire(t, b)

		p := parseMessage(t, b)
		if p.text != normaliseNewlines(text) || p.html != normaliseNewlines(html) {
			t.Fatalf("bodies read back differ")
		}

		if want := map[bool]int{false: 2, true: 1}[html == ""]; p.parts != want {
			t.Fatalf("%d parts, want %d", p.parts, want)
		}
	})
}
