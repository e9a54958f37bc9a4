package templates

import (
	"errors"
	"strings"
	"testing"
)

func TestValidateName(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name  string
		input string
		ok    bool
	}{
		{"simple", "order-shipped", true},
		{"digit first", "2fa.code_v2", true},
		{"single char", "a", true},
		{"max length", strings.Repeat("a", 64), true},
		{"empty", "", false},
		{"too long", strings.Repeat("a", 65), false},
		{"uppercase", "Order", false},
		{"leading dash", "-order", false},
		{"leading dot", ".order", false},
		{"space", "order shipped", false},
		{"slash", "a/b", false},
		{"newline", "a\nb", false},
		{"non-ASCII", "bestellung-ö", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := ValidateName(tt.input)
			if tt.ok {
				if err != nil {
					t.Fatalf("ValidateName() = %v, want nil", err)
				}
				return
			}
			wantProblem(t, err, "/name", "must be")
		})
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(*Template)
		field  string // "" means valid
		detail string
	}{
		{"base", nil, "", ""},
		{"no html part", func(t *Template) { t.HTML = "" }, "", ""},
		{"unused variable", func(t *Template) {
			t.Variables["spare"] = Variable{Type: TypeString}
		}, "", ""},
		{
			"spaces in actions",
			func(t *Template) { t.Subject = "Order {{ .order_number }}" },
			"",
			"",
		},
		{"dollar reference in with", func(t *Template) {
			t.Text = "{{with .tracking_url}}{{.}} for {{$.first_name}}{{end}}"
		}, "", ""},
		{"allowed functions", func(t *Template) {
			t.Text = `{{if and .shipped (not (eq .shop_name "x")) (ne .due "")}}y{{end}}` +
				`{{if or .shipped .note}}z{{end}}`
		}, "", ""},
		{"local variable", func(t *Template) {
			t.Text = "{{$n := .first_name}}{{$n}}"
		}, "", ""},
		{"comment", func(t *Template) { t.Text = "{{/* note */}}hi" }, "", ""},

		{"bad name", func(t *Template) { t.Name = "Bad Name" }, "/name", "must be"},
		{"negative version", func(t *Template) { t.Version = -1 }, "/version", "negative"},
		{"subject missing", func(t *Template) { t.Subject = "  " }, "/subject", "is required"},
		{"text missing", func(t *Template) { t.Text = "" }, "/text", "is required"},
		{"subject too long", func(t *Template) {
			t.Subject = strings.Repeat("a", MaxSubjectSource+1)
		}, "/subject", "longer than 1000 octets"},
		{"text too long", func(t *Template) {
			t.Text = strings.Repeat("a", MaxBodySource+1)
		}, "/text", "longer than"},
		{"html too long", func(t *Template) {
			t.HTML = strings.Repeat("a", MaxBodySource+1)
		}, "/html", "longer than"},
		{
			"subject with LF",
			func(t *Template) { t.Subject = "Hi\nBcc: x" },
			"/subject",
			"line break",
		},
		{
			"subject with CR",
			func(t *Template) { t.Subject = "Hi\rthere" },
			"/subject",
			"line break",
		},
		{"subject LF inside action", func(t *Template) {
			t.Subject = "Hi {{\n.first_name}}"
		}, "/subject", "line break"},
		{"text bare CR", func(t *Template) { t.Text = "a\rb" }, "/text", "carriage return"},
		{"text CRLF ok", func(t *Template) { t.Text = "a\r\nb\n" }, "", ""},
		{"text NUL", func(t *Template) { t.Text = "a\x00b" }, "/text", "NUL"},
		{"html control", func(t *Template) { t.HTML = "<p>a\x1bb</p>" }, "/html", "control"},
		{"invalid UTF-8", func(t *Template) { t.Text = "a\xffb" }, "/text", "UTF-8"},
		{
			"parse error",
			func(t *Template) { t.Text = "{{if .shipped}}open" },
			"/text",
			"does not parse",
		},
		{"undeclared variable", func(t *Template) {
			t.Text = "Hi {{.last_name}}"
		}, "/text", `undeclared variable "last_name"`},
		{"undeclared in if", func(t *Template) {
			t.HTML = "{{if .vip}}x{{end}}"
		}, "/html", `undeclared variable "vip"`},
		{"undeclared in with", func(t *Template) {
			t.Text = "{{with .coupon}}{{.}}{{end}}"
		}, "/text", `undeclared variable "coupon"`},
		{"undeclared in else branch", func(t *Template) {
			t.Text = "{{if .shipped}}a{{else}}{{.eta}}{{end}}"
		}, "/text", `undeclared variable "eta"`},
		{"undeclared in function args", func(t *Template) {
			t.Text = `{{if eq .status "x"}}a{{end}}`
		}, "/text", `undeclared variable "status"`},
		{"undeclared via dollar", func(t *Template) {
			t.Text = "{{$.secret}}"
		}, "/text", `undeclared variable "secret"`},
		{"undeclared in range pipeline", func(t *Template) {
			t.Text = "{{range .items}}{{end}}"
		}, "/text", `undeclared variable "items"`},
		{"range rejected", func(t *Template) {
			t.Text = "{{range 1000000000}}x{{end}}"
		}, "/text", "may not use range"},
		{"field inside with", func(t *Template) {
			t.Text = "{{with .tracking_url}}{{.first_name}}{{end}}"
		}, "/text", "inside with"},
		{"whole data", func(t *Template) { t.Subject = "{{.}}" }, "/subject", "all data at once"},
		{"whole data via dollar", func(t *Template) {
			t.Text = "{{with .due}}{{$}}{{end}}"
		}, "/text", "all data at once"},
		{"whole data in if", func(t *Template) {
			t.HTML = "{{if .}}x{{end}}"
		}, "/html", "all data at once"},
		{"nested field", func(t *Template) {
			t.Text = "{{.first_name.first}}"
		}, "/text", "single values"},
		{"multiline in subject", func(t *Template) {
			t.Subject = "Note: {{.note}}"
		}, "/subject", `multiline variable "note"`},
		{"printf not allowed", func(t *Template) {
			t.Text = `{{printf "%s" .first_name}}`
		}, "/text", `function "printf"`},
		{"call not allowed", func(t *Template) {
			t.Text = `{{call .first_name}}`
		}, "/text", `function "call"`},
		{"index not allowed", func(t *Template) {
			t.Subject = `{{index . "first_name"}}`
		}, "/subject", `function "index"`},
		{"pipe to html not allowed", func(t *Template) {
			t.Text = `{{.first_name | html}}`
		}, "/text", `function "html"`},
		{"unknown function", func(t *Template) {
			t.Text = `{{exec "rm"}}`
		}, "/text", `function "exec"`},
		{"template call", func(t *Template) {
			t.Text = `{{template "other"}}`
		}, "/text", "may not use template"},
		{"define", func(t *Template) {
			t.Text = `{{define "x"}}hi{{end}}body`
		}, "/text", "define or block"},
		{"block", func(t *Template) {
			t.HTML = `{{block "x" .}}hi{{end}}`
		}, "/html", "define or block"},
		{"html escaping ambiguity", func(t *Template) {
			t.HTML = `<a href="{{if .shipped}}https://a.test/{{else}}x{{end}}{{.first_name}}` +
				`"{{if .shipped}}>{{end}}</a>`
		}, "/html", "cannot be escaped safely"},
		{"bad variable name", func(t *Template) {
			t.Variables["First-Name"] = Variable{Type: TypeString}
		}, "/variables", "name that is not valid"},
		{"bad variable type", func(t *Template) {
			t.Variables["first_name"] = Variable{Type: "text"}
		}, "/variables/first_name/type", "must be one of"},
		{"multiline number", func(t *Template) {
			t.Variables["item_count"] = Variable{Type: TypeNumber, Multiline: true}
		}, "/variables/item_count/multiline", "only allowed on string"},
		{"max_length on url", func(t *Template) {
			t.Variables["tracking_url"] = Variable{Type: TypeURL, MaxLength: 10}
		}, "/variables/tracking_url/max_length", "only allowed on string"},
		{"max_length negative", func(t *Template) {
			t.Variables["first_name"] = Variable{Type: TypeString, MaxLength: -1}
		}, "/variables/first_name/max_length", "between 0 and"},
		{"max_length too large", func(t *Template) {
			t.Variables["first_name"] = Variable{Type: TypeString, MaxLength: MaxMaxLength + 1}
		}, "/variables/first_name/max_length", "between 0 and"},
		{"too many variables", func(t *Template) {
			for i := range MaxVariables + 1 {
				t.Variables["v"+strings.Repeat("x", i%60)+string(rune('a'+i/60))] =
					Variable{Type: TypeString}
			}
		}, "/variables", "more than 100"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := withTemplate(tt.mutate).Validate()
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			wantProblem(t, err, tt.field, tt.detail)
		})
	}
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()

	tmpl := &Template{Name: "", Subject: "", Text: "{{.a}}", Variables: map[string]Variable{}}
	ps := problemsOf(t, tmpl.Validate())

	want := []string{"/name", "/subject", "/text"}
	if len(ps) != len(want) {
		t.Fatalf("problems = %+v, want fields %v", ps, want)
	}
	for i, p := range ps {
		if p.Field != want[i] {
			t.Errorf("problem %d field = %q, want %q", i, p.Field, want[i])
		}
	}
}

func TestValidationErrorMessage(t *testing.T) {
	t.Parallel()

	err := &ValidationError{Problems: []Problem{
		{Field: "/data/a", Detail: "is required"},
		{Field: "/subject", Detail: "contains a line break"},
	}}
	want := "validation failed: /data/a: is required; /subject: contains a line break"
	if got := err.Error(); got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

// Quoted constants are decoded by the template parser, so escapes in them
// must be checked after decoding: they could otherwise put control
// characters in the subject or body of every message.
func TestQuotedConstantsCannotCarryControlCharacters(t *testing.T) {
	t.Parallel()
	vars := map[string]Variable{"a": {Type: TypeString}}
	tests := []struct {
		name          string
		subject, text string
		field         string
	}{
		{"escape in subject", `S {{"\x1b[31m"}} {{.a}}`, "T", "/subject"},
		{"NUL in subject", `S {{"\x00"}}`, "T", "/subject"},
		{"CRLF in subject", `S {{"\r\nBcc: x"}}`, "T", "/subject"},
		{"tab in subject constant", `S {{"\t"}}`, "T", "/subject"},
		{"NEL in subject", `S {{"\u0085"}}`, "T", "/subject"},
		{"tab in subject source", "S \t {{.a}}", "T", "/subject"},
		{"escape in text", "S", `T {{"\x1b"}} {{.a}}`, "/text"},
		{"NUL in text", "S", `T {{"\x00"}}`, "/text"},
		{"bare CR in text", "S", `T {{"a\rb"}}`, "/text"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tmpl := &Template{Name: "t", Subject: tt.subject, Text: tt.text, Variables: vars}
			err := tmpl.Validate()
			var ve *ValidationError
			if !errors.As(err, &ve) {
				t.Fatalf("Validate = %v, want a ValidationError", err)
			}
			for _, p := range ve.Problems {
				if p.Field == tt.field {
					return
				}
			}
			t.Fatalf("no problem for %s: %v", tt.field, err)
		})
	}
	ok := &Template{Name: "t", Subject: `S {{"ok"}}`, Text: "T {{\"line\\n\"}}", Variables: vars}
	if err := ok.Validate(); err != nil {
		t.Fatalf("plain constants refused: %v", err)
	}
}
