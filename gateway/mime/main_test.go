package mime

import (
	"bytes"
	"flag"
	"io"
	stdmime "mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/address"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// testMessage returns a fixed, valid message with a fixed boundary.
func testMessage(t testing.TB) *Message {
	t.Helper()

	from, err := address.ParseWithName("Sealpost Pharmacy", "noreply@example.test")
	if err != nil {
		t.Fatal(err)
	}

	to, err := address.ParseWithName("Zoë Ångström", "pat@example.test")
	if err != nil {
		t.Fatal(err)
	}

	return &Message{
		From:      from,
		To:        []address.Address{to},
		Subject:   "Your order #1042 has shipped",
		Date:      time.Date(2025, 3, 14, 9, 26, 53, 0, time.UTC),
		MessageID: "0190c0de5eal@example.test",
		Headers: []Header{
			{Name: "List-Unsubscribe", Value: "<https://example.test/u/opaque-token>"},
			{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"},
		},
		Text: "Hello,\n\nYour order has shipped.\n.\nFrom here on, track it online.  \n",
		HTML: "<p>Hello,</p>\n<p>Your order has <b>shipped</b>.</p>\n",

		boundary: "=_0123456789abcdef0123456789abcdef",
	}
}

// parsedMessage is a built message read back with the standard library.
type parsedMessage struct {
	header mail.Header
	text   string
	html   string
	parts  int
}

// parseMessage reads b with net/mail, mime/multipart and
// mime/quotedprintable, failing the test if any of them objects.
func parseMessage(t testing.TB, b []byte) parsedMessage {
	t.Helper()

	msg, err := mail.ReadMessage(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("net/mail: %v", err)
	}

	mediaType, params, err := stdmime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatalf("content type: %v", err)
	}

	p := parsedMessage{header: msg.Header}
	if mediaType == "text/plain" {
		p.text = readQP(t, msg.Body)
		p.parts = 1

		return p
	}

	if mediaType != "multipart/alternative" {
		t.Fatalf("media type %q", mediaType)
	}

	mr := multipart.NewReader(msg.Body, params["boundary"])
	for {
		part, err := mr.NextRawPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("multipart: %v", err)
		}

		if cte := part.Header.Get("Content-Transfer-Encoding"); cte != "quoted-printable" {
			t.Fatalf("part encoding %q", cte)
		}

		body := readQP(t, part)
		switch ct := part.Header.Get("Content-Type"); ct {
		case "text/plain; charset=utf-8":
			p.text = body
		case "text/html; charset=utf-8":
			p.html = body
		default:
			t.Fatalf("part type %q", ct)
		}
		p.parts++
	}

	return p
}

func readQP(t testing.TB, r io.Reader) string {
	t.Helper()

	b, err := io.ReadAll(quotedprintable.NewReader(r))
	if err != nil {
		t.Fatalf("quoted-printable: %v", err)
	}

	return string(b)
}

// normaliseNewlines turns every CRLF, bare CR and bare LF into CRLF.
func normaliseNewlines(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")

	return strings.ReplaceAll(s, "\n", "\r\n")
}

// checkWire asserts the invariants every built message must hold on the
// wire, and returns its lines.
func checkWire(t testing.TB, b []byte) []string {
	t.Helper()

	if !bytes.HasSuffix(b, []byte("\r\n")) {
		t.Fatalf("message does not end in CRLF")
	}

	for i, c := range b {
		switch {
		case c == '\r' && (i+1 == len(b) || b[i+1] != '\n'):
			t.Fatalf("bare CR at offset %d", i)
		case c == '\n' && (i == 0 || b[i-1] != '\r'):
			t.Fatalf("bare LF at offset %d", i)
		case c >= 0x80 || c == 0:
			t.Fatalf("byte %#x at offset %d is not 7-bit", c, i)
		}
	}

	lines := strings.Split(strings.TrimSuffix(string(b), "\r\n"), "\r\n")
	for i, line := range lines {
		if len(line) > maxLineOctets {
			t.Fatalf("line %d has %d octets", i+1, len(line))
		}

		if strings.HasPrefix(line, ".") {
			t.Fatalf("line %d starts with a dot", i+1)
		}
	}

	return lines
}

// rawField returns the named header field of b unfolded by RFC 5322 §2.2.3
// alone (every CRLF before whitespace removed), without any other
// whitespace handling, and the lines it was folded into.
func rawField(t testing.TB, b []byte, name string) (string, []string) {
	t.Helper()

	head, _, _ := strings.Cut(string(b), "\r\n\r\n")
	lines := strings.Split(head, "\r\n")
	for i, line := range lines {
		value, ok := strings.CutPrefix(line, name+":")
		if !ok {
			continue
		}

		folded := []string{line}
		for _, next := range lines[i+1:] {
			if next == "" || (next[0] != ' ' && next[0] != '\t') {
				break
			}
			folded = append(folded, next)
			value += next
		}

		return strings.TrimPrefix(value, " "), folded
	}

	t.Fatalf("no %s field", name)

	return "", nil
}
