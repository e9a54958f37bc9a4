package templates

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

// fuzzTemplate uses every variable type in every part.
func fuzzTemplate() *Template {
	t := baseTemplate()
	t.Subject = "{{.order_number}} {{.shop_name}} {{.due}} {{.item_count}} " +
		"{{.shipped}} {{.tracking_url}}"
	t.HTML = `<p title="{{.first_name}}">{{.note}}</p><a href="{{.tracking_url}}">{{.due}}</a>` +
		`{{if .shipped}}<b>{{.item_count}}</b>{{end}}`
	return t
}

func FuzzValidateData(f *testing.F) {
	seed, err := json.Marshal(baseData())
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(seed))
	f.Add(`{}`)
	f.Add(`{"first_name":"a","order_number":"b","shop_name":"c","note":"x\r\ny"}`)
	f.Add(`{"first_name":"a","order_number":"b\r\n.","shop_name":"c","item_count":1e999}`)
	f.Add(`{"first_name":"a","order_number":"b","shop_name":"c","tracking_url":"javascript:x"}`)
	f.Add(`{"first_name":null,"order_number":[1],"shop_name":{"a":1},"due":"2026-13-01"}`)
	f.Add(`{"first_name":"<script>","order_number":"\u2028","shop_name":"\u0000"}`)

	tmpl := fuzzTemplate()
	if err := tmpl.Validate(); err != nil {
		f.Fatalf("fuzz template invalid: %v", err)
	}

	f.Fuzz(func(t *testing.T, input string) {
		dec := json.NewDecoder(strings.NewReader(input))
		dec.UseNumber()
		var data map[string]any
		if err := dec.Decode(&data); err != nil {
			return
		}

		if err := tmpl.ValidateData(data); err != nil {
			if _, rerr := tmpl.Render(data); rerr == nil {
				t.Fatalf("Render() succeeded on data ValidateData refused: %v", err)
			}
			return
		}
		r, err := tmpl.Render(data)
		if err != nil {
			t.Fatalf("Render() = %v after ValidateData() = nil", err)
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Fatalf("Subject %q has a line break", r.Subject)
		}
		if len(r.Subject) > MaxSubjectOctets {
			t.Fatalf("Subject is %d octets", len(r.Subject))
		}
		if strings.Contains(strings.ReplaceAll(r.Text, "\r\n", ""), "\r") {
			t.Fatalf("Text has a bare CR")
		}
		checkSanitised(t, input, r.HTML)
	})
}

func FuzzSanitize(f *testing.F) {
	for _, in := range bl20Inputs {
		f.Add(in)
	}
	f.Add(`<p style="color:red" onmouseover="x">a</p>`)
	f.Add(`<a href="https://example.test/" target="_self" rel="opener">x</a>`)
	f.Add(`<table><tr><td bgcolor="#fff" width="50%">a</td></tr></table>`)
	f.Add(`<img src="https://example.test/a.png"/><img/src="javascript:x">`)

	f.Fuzz(func(t *testing.T, in string) {
		out := SanitizeHTML(in)
		checkSanitised(t, in, out)

		// Sanitising is idempotent: what passed once passes unchanged.
		if again := SanitizeHTML(out); again != out {
			t.Fatalf("SanitizeHTML not idempotent:\nonce:  %q\ntwice: %q", out, again)
		}
	})
}

func FuzzValidate(f *testing.F) {
	f.Add("Order {{.order_number}}", "Hi {{.first_name}}", "<p>{{.note}}</p>")
	f.Add("{{if .shipped}}x{{end}}", "{{with .due}}{{.}}{{end}}", `<a href="{{.tracking_url}}">`)
	f.Add("{{range 9}}{{end}}", `{{define "a"}}{{end}}`, `{{template "a"}}`)
	f.Add("{{.a.b}}", "{{$x := .note}}{{$x}}", "<script>{{.first_name}}</script>")
	f.Add("Your insulin", "DOB: {{.due}}\nE11.9", `<img alt="Ozempic &amp; pen" src=x>`)
	f.Add("MRN:", "<p title='Member ID: {{.note}}'>", "<a href=hiv-test>&#x27;s</a>")

	data := baseData()
	f.Fuzz(func(t *testing.T, subject, text, html string) {
		tmpl := withTemplate(func(t *Template) {
			t.Subject, t.Text, t.HTML = subject, text, html
		})
		if err := tmpl.Validate(); err != nil {
			checkPositions(t, tmpl, err)
			return
		}
		r, err := tmpl.Render(data)
		if err != nil {
			return
		}
		if strings.ContainsAny(r.Subject, "\r\n") {
			t.Fatalf("Subject %q has a line break", r.Subject)
		}
		checkSanitised(t, html, r.HTML)
	})
}

// checkPositions fails if a problem points outside its part's source.
func checkPositions(t *testing.T, tmpl *Template, err error) {
	t.Helper()

	parts := map[string]string{"/subject": tmpl.Subject, "/text": tmpl.Text, "/html": tmpl.HTML}
	for _, p := range problemsOf(t, err) {
		if p.Line == 0 {
			continue
		}
		src, ok := parts[p.Field]
		if !ok {
			t.Fatalf("problem %+v has a position but no part", p)
		}
		lines := strings.Split(src, "\n")
		if p.Line > len(lines) || p.Column < 1 ||
			p.Column > utf8.RuneCountInString(lines[p.Line-1]) {
			t.Fatalf("problem %+v points outside the part", p)
		}
	}
}
