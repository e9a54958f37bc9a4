package address_test

import (
	"bytes"
	"errors"
	"log/slog"
	"net/mail"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/sealpost/sealpost/gateway/address"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"simple", "pat@example.test", "pat@example.test"},
		{"domain lower-cased", "pat@Mail.EXAMPLE.Test", "pat@mail.example.test"},
		{"local part keeps case", "Pat.Smith@example.test", "Pat.Smith@example.test"},
		{"atext specials", "a!#$%&'*+-/=?^_`{|}~b@example.test",
			"a!#$%&'*+-/=?^_`{|}~b@example.test"},
		{"plus tag", "pat+orders@example.test", "pat+orders@example.test"},
		{"hyphen and digits in labels", "pat@mx-1.example2.test", "pat@mx-1.example2.test"},
		{"IDN domain becomes A-label", "pat@bücher.example", "pat@xn--bcher-kva.example"},
		{"IDN upper case mapped", "pat@BÜCHER.example", "pat@xn--bcher-kva.example"},
		{"A-label kept", "pat@XN--BCHER-KVA.example", "pat@xn--bcher-kva.example"},
		{"full-width dot mapped", "pat@bücher。example", "pat@xn--bcher-kva.example"},
		{"64-octet local part", strings.Repeat("a", 64) + "@example.test",
			strings.Repeat("a", 64) + "@example.test"},
		{"63-octet label", "pat@" + strings.Repeat("a", 63) + ".test",
			"pat@" + strings.Repeat("a", 63) + ".test"},
		{"254-octet address", longAddress(254), longAddress(254)},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := address.Parse(tt.input)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}

			if got.Email != tt.want || got.Name != "" {
				t.Fatalf("Parse = %+v, want Email %q", got, tt.want)
			}

			again, err := address.Parse(got.Email)
			if err != nil || again != got {
				t.Fatalf("Parse(Parse(x).Email) = %+v, %v; want %+v", again, err, got)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		input  string
		reason string
	}{
		{"empty", "", "address is empty"},
		{"invalid UTF-8", "pat@ex\xffample.test", "address is not valid UTF-8"},
		{"CR LF", "pat@example.test\r\nRCPT TO:<x@attacker.test>",
			"address contains a control character"},
		{"NUL", "pat\x00@example.test", "address contains a control character"},
		{"DEL", "pat\x7f@example.test", "address contains a control character"},
		{"C1 control", "pat@exa\u0085mple.test", "address contains a control character"},
		{"space", "pat smith@example.test", "address contains whitespace"},
		{"ideographic space", "pat@example\u3000test", "address contains whitespace"},
		{"name-addr form", "<pat@example.test>", "address has angle brackets; pass a bare address"},
		{"no at", "pat.example.test", "address has no @"},
		{"two ats", "pat@home@example.test", "address has more than one @"},
		{"quoted local part", `"pat smith"@example.test`, "quoted local part is not supported"},
		{"UTF-8 local part", "päť@example.test",
			"non-ASCII local part needs SMTPUTF8, which is not offered"},
		{"empty local part", "@example.test", "local part is empty"},
		{"65-octet local part", strings.Repeat("a", 65) + "@example.test",
			"local part longer than 64 octets"},
		{"leading dot", ".pat@example.test", "local part has a leading, trailing or repeated dot"},
		{"trailing dot", "pat.@example.test", "local part has a leading, trailing or repeated dot"},
		{"double dot", "pat..smith@example.test",
			"local part has a leading, trailing or repeated dot"},
		{"comma in local part", "pat,smith@example.test", "local part has an invalid character"},
		{"paren in local part", "pat(comment)@example.test", "local part has an invalid character"},
		{"empty domain", "pat@", "domain is empty"},
		{"address literal", "pat@[192.0.2.1]", "address literal domain is not supported"},
		{"no dot", "pat@localhost", "domain has no dot"},
		{"leading dot domain", "pat@.example.test", "domain label is empty"},
		{"trailing dot domain", "pat@example.test.", "domain label is empty"},
		{"empty label", "pat@example..test", "domain label is empty"},
		{"64-octet label", "pat@" + strings.Repeat("a", 64) + ".test", "domain label too long"},
		{"underscore label", "pat@mail_1.example.test", "domain label has an invalid character"},
		{"leading hyphen", "pat@-mail.example.test", "domain label starts or ends with a hyphen"},
		{"numeric TLD", "pat@192.0.2.1", "top-level domain is numeric"},
		{"domain over 255", "pat@" + strings.Repeat(strings.Repeat("a", 63)+".", 4) + "test",
			"domain longer than 255 octets"},
		{"address over 254", longAddress(255), "address longer than 254 octets"},
		{"bad A-label", "pat@xn--a.example", "invalid internationalised domain"},
		{"IDN with underscore", "pat@bü_cher.example", "invalid internationalised domain"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			got, err := address.Parse(tt.input)
			assertInvalid(t, err, tt.reason, tt.input)

			if got != (address.Address{}) {
				t.Fatalf("Parse returned %+v with an error", got)
			}
		})
	}
}

func TestParseWithName(t *testing.T) {
	t.Parallel()

	t.Run("accepts", func(t *testing.T) {
		t.Parallel()

		for _, name := range []string{
			"",
			"Pat Smith",
			`Smith, Pat "PJ" \ Jr.`,
			"Zoë Ångström 李 🙂",
			strings.Repeat("é", address.MaxNameRunes),
			"=?not an encoded word",
			"=?UTF-8?Q?Pat?=",
		} {
			got, err := address.ParseWithName(name, "pat@example.test")
			if err != nil {
				t.Fatalf("ParseWithName: %v", err)
			}

			if got.Name != name || got.Email != "pat@example.test" {
				t.Fatalf("ParseWithName = %+v", got)
			}
		}
	})

	t.Run("rejects", func(t *testing.T) {
		t.Parallel()

		tests := []struct {
			name, input, reason string
		}{
			{"CR LF", "Pat\r\nX-Evil: 1", "display name contains a control character"},
			{"bare LF", "Pat\nX-Evil: 1", "display name contains a control character"},
			{"NUL", "Pat\x00", "display name contains a control character"},
			{"tab", "Pat\tSmith", "display name contains a control character"},
			{"line separator", "Pat\u2028Smith", "display name contains a line separator"},
			{"invalid UTF-8", "Pat\xc3", "display name is not valid UTF-8"},
			{"too long", strings.Repeat("a", address.MaxNameRunes+1),
				"display name longer than 256 characters"},
			{"encoded CR LF", "=?UTF-8?Q?Pat=0D=0AX-Evil:_1?=",
				"display name has an encoded word that decodes to a control character"},
			{"encoded NUL", "=?UTF-8?B?UGF0AA==?=",
				"display name has an encoded word that decodes to a control character"},
		}

		for _, tt := range tests {
			_, err := address.ParseWithName(tt.input, "pat@example.test")
			assertInvalid(t, err, tt.reason, tt.input)
		}
	})

	t.Run("email still checked", func(t *testing.T) {
		t.Parallel()

		_, err := address.ParseWithName("Pat", "pat@localhost")
		assertInvalid(t, err, "domain has no dot", "pat@localhost")
	})
}

func TestDomain(t *testing.T) {
	t.Parallel()

	a, err := address.Parse("Pat@Bücher.Example")
	if err != nil {
		t.Fatal(err)
	}

	if got := a.Domain(); got != "xn--bcher-kva.example" {
		t.Fatalf("Domain = %q", got)
	}

	if got := (address.Address{}).Domain(); got != "" {
		t.Fatalf("zero Domain = %q", got)
	}
}

func TestLogValueRedacts(t *testing.T) {
	t.Parallel()

	a, err := address.ParseWithName("Pat Secretname", "pat.localpart@example.test")
	if err != nil {
		t.Fatal(err)
	}

	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, nil))
	logger.Info("sent", "to", a)

	out := buf.String()
	for _, secret := range []string{"localpart", "Secretname", "pat"} {
		if strings.Contains(out, secret) {
			t.Fatalf("log line leaks %q: %s", secret, out)
		}
	}

	if !strings.Contains(out, `"to":{"domain":"example.test"}`) {
		t.Fatalf("log line lacks the domain: %s", out)
	}
}

func TestString(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name, display, want string
	}{
		{"no name", "", "pat@example.test"},
		{"atoms", "Pat Smith", "Pat Smith <pat@example.test>"},
		{"specials quoted", `Smith, "PJ" \ Pat`, `"Smith, \"PJ\" \\ Pat" <pat@example.test>`},
		{"double space quoted", "Pat  Smith", `"Pat  Smith" <pat@example.test>`},
		{"non-ASCII encoded", "Zoë, Smith", "=?UTF-8?B?Wm/DqywgU21pdGg=?= <pat@example.test>"},
		{"long non-ASCII in several words", strings.Repeat("é🙂", 40), ""},
		{"encoded-word lookalike encoded", "=?UTF-8?Q?x?=",
			"=?UTF-8?B?PT9VVEYtOD9RP3g/PQ==?= <pat@example.test>"},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			a, err := address.ParseWithName(tt.display, "pat@example.test")
			if err != nil {
				t.Fatal(err)
			}

			got := a.String()
			if tt.want != "" && got != tt.want {
				t.Fatalf("String = %q, want %q", got, tt.want)
			}

			parsed, err := mail.ParseAddress(got)
			if err != nil {
				t.Fatalf("net/mail cannot parse %q: %v", got, err)
			}

			if parsed.Name != tt.display || parsed.Address != a.Email {
				t.Fatalf("net/mail read back %+v", parsed)
			}
		})
	}
}

// assertInvalid checks that err is an *InvalidError with the given reason and
// that neither the message nor the reason repeats the input.
func assertInvalid(t *testing.T, err error, reason, input string) {
	t.Helper()

	if !errors.Is(err, address.ErrInvalid) {
		t.Fatalf("error %v does not match ErrInvalid", err)
	}

	var invalid *address.InvalidError
	if !errors.As(err, &invalid) {
		t.Fatalf("error %T is not *InvalidError", err)
	}

	if invalid.Reason != reason {
		t.Fatalf("Reason = %q, want %q", invalid.Reason, reason)
	}

	if len(input) >= 4 && strings.Contains(err.Error(), input) {
		t.Fatalf("error %q repeats the input", err)
	}
}

// longAddress returns a valid address of exactly n octets.
func longAddress(n int) string {
	local := strings.Repeat("l", 64)
	domain := strings.Repeat("d", 63) + "." + strings.Repeat("e", 63) + "."
	rest := n - len(local) - 1 - len(domain) // the @ and the last label

	return local + "@" + domain + strings.Repeat("f", rest)
}
