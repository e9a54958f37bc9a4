package delivery

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
)

// errorText is every shape Error.Error may take: a phase and either reply
// codes or a fixed reason.
var errorText = regexp.MustCompile(`^smtp [a-z_]+: (\d{3}( [245]\.\d{1,3}\.\d{1,3})?|[a-zA-Z .]+)$`)

// FuzzErrorHidesReplyText asserts that whatever a relay replies, the error
// text is only the phase and codes: the reply text, which may echo an
// address, never reaches it.
func FuzzErrorHidesReplyText(f *testing.F) {
	f.Add(550, 5, 1, 1, "No such user pat@example.test")
	f.Add(451, 4, 3, 0, "Try again\nlater pat@example.test")
	f.Add(554, -1, -1, -1, "5.7.1 <pat@example.test>: Relay access denied")
	f.Fuzz(func(t *testing.T, code, c0, c1, c2 int, text string) {
		if code < 100 || code > 999 {
			t.Skip()
		}
		se := &smtp.SMTPError{Code: code, EnhancedCode: smtp.EnhancedCode{c0, c1, c2},
			Message: text}
		for _, phase := range []string{PhaseGreeting, PhaseRcpt, PhaseFinalDot} {
			e := classify(context.Background(), nil, phase, se)
			if !errorText.MatchString(e.Error()) {
				t.Fatalf("error text %q has an unexpected shape", e.Error())
			}
			if len(text) > 12 && strings.Contains(e.Error(), text) {
				t.Fatalf("error text %q contains the reply text", e.Error())
			}
			if e.Temporary == (code >= 500) && phase == PhaseRcpt {
				t.Fatalf("code %d classified temporary=%v", code, e.Temporary)
			}
		}
	})
}

// FuzzCheckMessage asserts that an accepted message has CRLF line endings
// only, no NUL and no line over MaxLineLength, checked independently of the
// scanner under test.
func FuzzCheckMessage(f *testing.F) {
	f.Add([]byte("Subject: hi\r\n\r\nbody\r\n"))
	f.Add([]byte("a\n.\r\nMAIL FROM:<x@example.test>\r\n"))
	f.Add([]byte("a\r\n.\r"))
	f.Add(bytes.Repeat([]byte("a"), 999))
	f.Fuzz(func(t *testing.T, msg []byte) {
		if checkMessage(msg) != nil {
			return
		}
		if bytes.IndexByte(msg, 0) >= 0 {
			t.Fatal("accepted a NUL")
		}
		for _, line := range bytes.Split(msg, []byte("\r\n")) {
			if bytes.ContainsAny(line, "\r\n") {
				t.Fatalf("accepted a bare line break in %q", line)
			}
			if len(line) > MaxLineLength {
				t.Fatalf("accepted a %d-octet line", len(line))
			}
		}
	})
}

// FuzzParseExtensions asserts that extension keywords are upper-case single
// tokens whatever the EHLO reply holds.
func FuzzParseExtensions(f *testing.F) {
	f.Add("relay.example.test\nPIPELINING\nSTARTTLS\nSIZE 1000")
	f.Add("x\n starttls \n\n")
	f.Fuzz(func(t *testing.T, reply string) {
		for _, ext := range parseExtensions(reply) {
			if ext == "" || strings.ContainsAny(ext, " \n") || ext != strings.ToUpper(ext) {
				t.Fatalf("keyword %q is not a single upper-case token", ext)
			}
		}
	})
}
