package templates

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestTemplateLint covers the class rules and the lint of static text on
// save: each case adds one problem with its rule, and where it applies, its
// line and column in the part's source.
func TestTemplateLint(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(*Template)
		field  string
		rule   string
		line   int
		column int
	}{
		{"identifier in subject", func(t *Template) {
			t.Variables["first_name"] = Variable{Type: TypeString, Class: ClassIdentifier}
			t.Subject = "Hi {{.first_name}}"
		}, "/subject", RuleClassInSubject, 0, 0},
		{"sensitive in text", func(t *Template) {
			t.Variables["details"] = Variable{Type: TypeString, Class: ClassSensitive}
			t.Text = "See {{.details}}"
		}, "/text", RuleSensitiveInPart, 0, 0},
		{"sensitive in html attribute", func(t *Template) {
			t.Variables["details"] = Variable{Type: TypeString, Class: ClassSensitive}
			t.HTML = `<p title="{{.details}}">x</p>`
		}, "/html", RuleSensitiveInPart, 0, 0},
		{"phi name not sensitive", func(t *Template) {
			t.Variables["medication_name"] = Variable{Type: TypeString}
		}, "/variables/medication_name/class", RulePHIVariableName, 0, 0},
		{"phi name identifier", func(t *Template) {
			t.Variables["dob"] = Variable{Type: TypeDate, Class: ClassIdentifier}
		}, "/variables/dob/class", RulePHIVariableName, 0, 0},
		{"unknown class", func(t *Template) {
			t.Variables["note"] = Variable{Type: TypeString, Class: "secret"}
		}, "/variables/note/class", RuleUnknownClass, 0, 0},
		{"unknown category", func(t *Template) {
			t.Category = "newsletter"
		}, "/category", RuleUnknownCategory, 0, 0},
		{"medication in subject", func(t *Template) {
			t.Subject = "Your Metformin order {{.order_number}}"
		}, "/subject", "medication", 1, 6},
		{"condition on line 2", func(t *Template) {
			t.Text = "Hi {{.first_name}},\nyour diabetes supplies shipped.\n"
		}, "/text", "condition", 2, 6},
		{"label before action", func(t *Template) {
			t.Text = "Member ID: {{.order_number}}\n"
		}, "/text", "member-id", 1, 1},
		{"html visible text", func(t *Template) {
			t.HTML = "<p>Hi</p>\n<p>Your <b>insulin pump</b> shipped</p>"
		}, "/html", "device", 2, 12},
		{"html alt text", func(t *Template) {
			t.HTML = `<img src="https://cdn.example.test/x.png" alt="Ozempic pen">`
		}, "/html", "medication", 1, 48},
		{"html href", func(t *Template) {
			t.HTML = `<a href="https://shop.example.test/hiv-test-kit">Open</a>`
		}, "/html", "device", 1, 36},
		{"promotional transactional", func(t *Template) {
			t.Text = "Flash sale: 20% off everything. {{.order_number}}\n"
		}, "/text", RulePromotional, 0, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := withTemplate(tt.mutate).Validate()
			for _, p := range problemsOf(t, err) {
				if p.Field != tt.field || p.Rule != tt.rule {
					continue
				}
				if tt.line != 0 && (p.Line != tt.line || p.Column != tt.column) {
					t.Errorf("%s at %d:%d, want %d:%d", p.Rule, p.Line, p.Column,
						tt.line, tt.column)
				}
				if tt.line != 0 && !strings.Contains(p.Detail, "rule "+tt.rule) {
					t.Errorf("Detail %q does not name the rule", p.Detail)
				}
				return
			}
			t.Errorf("problems = %+v, want %s with rule %s", problemsOf(t, err), tt.field, tt.rule)
		})
	}
}

// TestTemplateLintAccepts: markup, attribute names and marketing wording in
// a marketing template are not findings, and a sensitive variable may be
// declared as long as no part uses it.
func TestTemplateLintAccepts(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(*Template)
	}{
		{"tag and attribute names", func(t *Template) {
			t.HTML = `<table class="x" style="color:#333"><tr><td>Hi</td></tr></table>`
		}},
		{"comments and style", func(t *Template) {
			t.HTML = `<style>.insulin{}</style><!-- insulin --><p>Hi</p>`
		}},
		{"marketing category", func(t *Template) {
			t.Category = CategoryMarketing
			t.Text = "Flash sale: 20% off everything.\n"
		}},
		{"sensitive declared unused", func(t *Template) {
			t.Variables["diagnosis"] = Variable{Type: TypeString, Class: ClassSensitive}
		}},
		{"identifier in body", func(t *Template) {
			t.Variables["first_name"] = Variable{Type: TypeString, Class: ClassIdentifier}
		}},
		{"action splits a phrase", func(t *Template) {
			t.Text = "kidney{{.order_number}} stones\n"
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			if err := withTemplate(tt.mutate).Validate(); err != nil {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

// TestExamplesPHIFree: the examples validate, lint clean, and the
// appointment reminder carries no health information.
func TestExamplesPHIFree(t *testing.T) {
	t.Parallel()

	examples, err := Examples()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		if err := ex.Validate(); err != nil {
			t.Errorf("%s: Validate() = %v", ex.Name, err)
		}
	}
}

func TestValidateDataLint(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) {
		t.Variables["first_name"] = Variable{Type: TypeString, Class: ClassIdentifier}
		t.Variables["diagnosis"] = Variable{Type: TypeString, Class: ClassSensitive}
	})
	tests := []struct {
		name  string
		field string
		value string
		rule  string // "" means accepted
	}{
		{"medication in note", "note", "Metformin 500 mg x 60", "medication"},
		{"ssn in order number", "order_number", "123-45-6789", "ssn"},
		{"condition in identifier", "first_name", "Diabetic Pat", "condition"},
		{"url path", "tracking_url", "https://shop.example.test/p/insulin-pump", "device"},
		{"plain order number", "order_number", "A-1001", ""},
		{"sensitive not linted", "diagnosis", "Type 2 diabetes, E11.9", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			data := withData(func(d map[string]any) { d[tt.field] = tt.value })
			err := tmpl.ValidateData(data)
			if tt.rule == "" {
				if err != nil {
					t.Fatalf("ValidateData() = %v", err)
				}
				return
			}
			wantProblem(t, err, "/data/"+tt.field, "rule "+tt.rule)
			if strings.Contains(err.Error(), tt.value) {
				t.Errorf("error quotes the value: %v", err)
			}
		})
	}
}

// TestRenderSensitiveAbsent: a sensitive value never reaches a part, even
// when a template that uses it is compiled behind validation's back.
func TestRenderSensitiveAbsent(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) {
		t.Variables["diagnosis"] = Variable{Type: TypeString, Class: ClassSensitive}
	})
	c, err := tmpl.Compile()
	if err != nil {
		t.Fatal(err)
	}
	c2 := *c
	c2.text, err = parseText(partText, "[{{.diagnosis}}]")
	if err != nil {
		t.Fatal(err)
	}
	const canary = "PHI-CANARY-7f3a"
	r, err := c2.Render(withData(func(d map[string]any) { d["diagnosis"] = canary }))
	if err != nil {
		t.Fatalf("Render() = %v", err)
	}
	if r.Text != "[]" || strings.Contains(r.Subject+r.Text+r.HTML, canary) {
		t.Errorf("rendered %q, want the sensitive value absent", r.Text)
	}
}

func TestLintFile(t *testing.T) {
	t.Parallel()

	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}

	clean := write("order-shipped.json", `{"subject":"Order {{.order_number}}",
		"text":"Your order shipped.\n",
		"variables":{"order_number":{"type":"string","required":true}}}`)
	ps, err := LintFile(clean)
	if err != nil || len(ps) != 0 {
		t.Errorf("LintFile(clean) = %+v, %v; want no problems", ps, err)
	}

	dirty := write("Bad Name.json", `{"subject":"Your refill",
		"text":"Hi,\nyour Lexapro 10 mg shipped.\n","variables":{}}`)
	ps, err = LintFile(dirty)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Rule != "medication" || ps[0].Line != 2 || ps[0].Column != 6 {
		t.Errorf("LintFile(dirty) = %+v, want one medication problem at 2:6", ps)
	}

	broken := write("broken.json", "{\n  \"subject\": \"x\",\n  oops\n}")
	ps, err = LintFile(broken)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 1 || ps[0].Rule != RuleInvalidJSON || ps[0].Line != 3 {
		t.Errorf("LintFile(broken) = %+v, want invalid-json on line 3", ps)
	}

	if _, err := LintFile(filepath.Join(dir, "missing.json")); err == nil {
		t.Error("LintFile(missing) = nil error")
	}
}

// A quoted constant renders like static text, so a drug name cannot hide
// in one.
func TestQuotedConstantsAreLinted(t *testing.T) {
	t.Parallel()
	tmpl := &Template{Name: "t", Subject: "Your order", Text: `Refill: {{"Metformin 500 mg"}}`,
		Variables: map[string]Variable{}}
	err := tmpl.Validate()
	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("Validate = %v", err)
	}
	for _, p := range ve.Problems {
		if p.Field == "/text" && p.Rule != "" && p.Line == 1 {
			if strings.Contains(p.Detail, "Metformin") {
				t.Fatal("the problem quotes the constant")
			}
			return
		}
	}
	t.Fatalf("no finding: %v", err)
}

// Evasions a reader would not notice are caught: character references,
// zero-width characters, soft hyphens and fullwidth letters.
func TestLintSeesThroughInvisibleEvasions(t *testing.T) {
	t.Parallel()
	for _, html := range []string{
		"<p>Your &#79;zempic refill</p>",
		"<p>Your d&#105;abetes kit</p>",
		"<p>Your Oze\u200bmpic refill</p>",
		"<p>Your Ins\u00adulin pens</p>",
		"<p>Your \uff2fzempic refill</p>",
	} {
		tmpl := &Template{Name: "t", Subject: "Your order", Text: "Your order shipped.", HTML: html,
			Variables: map[string]Variable{}}
		if err := tmpl.Validate(); err == nil {
			t.Errorf("saved: %q", html)
		}
	}
	data := map[string]Variable{"note": {Type: TypeString}}
	for _, v := range []string{"Oze\u200bmpic", "Di\u00adabetes care", "\uff2fzempic"} {
		tmpl := &Template{Name: "t", Subject: "Order", Text: "{{.note}}", Variables: data}
		if err := tmpl.ValidateData(map[string]any{"note": v}); err == nil {
			t.Errorf("accepted data %q", v)
		}
	}
}
