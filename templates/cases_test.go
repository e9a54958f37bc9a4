package templates

import (
	"strings"
	"testing"
)

// smugglingPayloads end the SMTP DATA phase early in the ways of case BL-08.
var smugglingPayloads = []struct {
	name   string
	value  string
	bareCR bool // holds a CR that does not start a CRLF
}{
	{
		"LF dot CRLF",
		"ok\n.\r\nMAIL FROM:<noreply@example.test>\r\nRCPT TO:<victim@example.test>\r\n" +
			"DATA\r\nFrom: Billing <noreply@example.test>\r\n\r\nPay now\r\n.\r\n",
		false,
	},
	{"LF dot LF", "ok\n.\nMAIL FROM:<noreply@example.test>\n", false},
	{"CRLF dot CR", "ok\r\n.\rMAIL FROM:<noreply@example.test>\r\n", true},
	{"CR dot CR", "ok\r.\rMAIL FROM:<noreply@example.test>", true},
	{"lone CR", "ok\rBcc: spy@attacker.test", true},
}

// TestCaseBL08SMTPSmuggling: a multiline variable carries line breaks into
// the text part as they are (the MIME writer normalises them to CRLF), but
// never a bare CR; a single-line variable refuses every variant.
func TestCaseBL08SMTPSmuggling(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) {
		t.Variables["order_note"] = Variable{Type: TypeString, Multiline: true}
		t.Text = "Note:\n{{.order_note}}\n"
	})
	for _, p := range smugglingPayloads {
		t.Run("multiline "+p.name, func(t *testing.T) {
			t.Parallel()

			data := withData(func(d map[string]any) { d["order_note"] = p.value })
			err := tmpl.ValidateData(data)
			if p.bareCR {
				wantProblem(t, err, "/data/order_note", "carriage return")
				if _, err := tmpl.Render(data); err == nil {
					t.Error("Render() accepted a bare CR")
				}
				return
			}
			if err != nil {
				t.Fatalf("ValidateData() = %v", err)
			}
			r, err := tmpl.Render(data)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if want := "Note:\n" + p.value + "\n"; r.Text != want {
				t.Errorf("Text = %q, want %q", r.Text, want)
			}
			if strings.ContainsAny(r.Subject, "\r\n") {
				t.Errorf("Subject = %q has a line break", r.Subject)
			}
		})
		t.Run("single-line "+p.name, func(t *testing.T) {
			t.Parallel()

			for _, field := range []string{"order_number", "shop_name", "first_name"} {
				data := withData(func(d map[string]any) { d[field] = p.value })
				wantProblem(t, tmpl.ValidateData(data), "/data/"+field, "line break")
				if _, err := tmpl.Render(data); err == nil {
					t.Errorf("Render() accepted %s with a line break", field)
				}
			}
		})
	}
}

// TestCaseBL10HeaderInjection: a value bound for the subject cannot carry a
// header line, whether raw, as a lone CR, with NUL, or in a URL or date.
func TestCaseBL10HeaderInjection(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		field string
		value string
	}{
		{"CRLF Bcc", "order_number", "Your order shipped\r\nBcc: spy@attacker.test"},
		{"LF Bcc", "shop_name", "Shop\nBcc: spy@attacker.test"},
		{"lone CR", "order_number", "A-1\rX-Evil: 1"},
		{"NUL", "order_number", "A-1\x00X-Evil: 1"},
		{"unicode line separator", "shop_name", "Shop\u2028Bcc: spy@attacker.test"},
		{"url", "tracking_url", "https://example.test/\r\nBcc: spy@attacker.test"},
		{"date", "due", "2026-05-01\r\nBcc: spy@attacker.test"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			data := withData(func(d map[string]any) { d[tt.field] = tt.value })
			err := baseTemplate().ValidateData(data)
			ps := problemsOf(t, err)
			if len(ps) != 1 || ps[0].Field != "/data/"+tt.field {
				t.Errorf("problems = %+v, want one for /data/%s", ps, tt.field)
			}
			if strings.Contains(err.Error(), "Bcc") || strings.Contains(err.Error(), "Evil") {
				t.Errorf("error quotes the value: %v", err)
			}
		})
	}

	// RFC 2047 text is only text here: it stays on one line and the MIME
	// writer encodes it again rather than decoding it.
	t.Run("encoded word stays text", func(t *testing.T) {
		t.Parallel()

		data := withData(func(d map[string]any) {
			d["order_number"] = "=?UTF-8?Q?Hi=0D=0ABcc:_spy@attacker.test?="
		})
		r, err := baseTemplate().Render(data)
		if err != nil {
			t.Fatalf("Render() = %v", err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Errorf("Subject = %q has a line break", r.Subject)
		}
	})
}
