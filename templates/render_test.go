package templates

import (
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata")

func TestRender(t *testing.T) {
	t.Parallel()

	r, err := baseTemplate().Render(baseData())
	if err != nil {
		t.Fatalf("Render() = %v", err)
	}

	if want := "Order A-1001 from Corner Shop"; r.Subject != want {
		t.Errorf("Subject = %q, want %q", r.Subject, want)
	}
	wantText := "Hi Pat,\nShipped.\nItems: 3\nDue: 2026-05-01\n" +
		"Track: https://track.example.test/p/123?x=1&y=2\nline one\nline two\n"
	if r.Text != wantText {
		t.Errorf("Text = %q, want %q", r.Text, wantText)
	}
	wantHTML := `<p>Hi Pat</p><p>line one
line two</p><a href="https://track.example.test/p/123?x=1&amp;y=2" rel="noreferrer noopener"` +
		` target="_blank">Track</a>`
	if r.HTML != wantHTML {
		t.Errorf("HTML = %q, want %q", r.HTML, wantHTML)
	}
}

func TestRenderOptionalVariables(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(map[string]any)
		text   string
	}{
		{"missing", func(d map[string]any) {
			delete(d, "shipped")
			delete(d, "item_count")
			delete(d, "due")
			delete(d, "tracking_url")
			delete(d, "note")
		}, "Hi Pat,\n\nItems: \nDue: \n\n\n"},
		{"null", func(d map[string]any) {
			d["shipped"] = nil
			d["tracking_url"] = nil
		}, "Hi Pat,\n\nItems: 3\nDue: 2026-05-01\n\nline one\nline two\n"},
		{"float and int numbers", func(d map[string]any) {
			d["item_count"] = 1e6
			d["note"] = ""
		}, "Hi Pat,\nShipped.\nItems: 1000000\nDue: 2026-05-01\n" +
			"Track: https://track.example.test/p/123?x=1&y=2\n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			r, err := baseTemplate().Render(withData(tt.mutate))
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}
			if r.Text != tt.text {
				t.Errorf("Text = %q, want %q", r.Text, tt.text)
			}
		})
	}
}

func TestRenderRejectsInvalidData(t *testing.T) {
	t.Parallel()

	_, err := baseTemplate().Render(withData(func(d map[string]any) {
		d["order_number"] = "A-1\r\nBcc: spy@attacker.test"
	}))
	wantProblem(t, err, "/data/order_number", "line break")
}

func TestRenderErrors(t *testing.T) {
	t.Parallel()

	const canary = "PHI-CANARY-91c2"
	tests := []struct {
		name   string
		mutate func(*Template)
		data   func(map[string]any)
		part   string
		want   error
	}{
		{"execution error", func(t *Template) {
			t.Text = "line\n  {{if eq .item_count 3}}x{{end}}"
		}, func(d map[string]any) { d["item_count"] = json.Number("3") }, partText, ErrRender},
		{"html execution error", func(t *Template) {
			t.HTML = `<p>{{if eq .shipped "` + "yes" + `"}}x{{end}}</p>`
		}, nil, partHTML, ErrRender},
		{"text too large", func(t *Template) {
			t.Text = strings.Repeat("{{.note}}", 200)
			t.Variables["note"] = Variable{Type: TypeString, Multiline: true, MaxLength: 10000}
		}, func(d map[string]any) { d["note"] = strings.Repeat(canary, 10000/len(canary)) },
			partText, ErrOutputTooLarge},
		{"subject too long", func(t *Template) {
			t.Subject = "{{.shop_name}} {{.shop_name}}"
		}, func(d map[string]any) { d["shop_name"] = strings.Repeat("a", 600) },
			partSubject, ErrOutputTooLarge},
		{"subject empty", func(t *Template) {
			t.Subject = "{{if .shipped}}Shipped{{end}}"
		}, func(d map[string]any) { d["shipped"] = false }, partSubject, ErrSubjectEmpty},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			data := withData(func(d map[string]any) {
				d["first_name"] = canary[:12]
				d["shop_name"] = canary
				if tt.data != nil {
					tt.data(d)
				}
			})
			_, err := withTemplate(tt.mutate).Render(data)
			var re *RenderError
			if !errors.As(err, &re) {
				t.Fatalf("Render() error = %v (%T), want *RenderError", err, err)
			}
			if re.Part != tt.part || !errors.Is(err, tt.want) {
				t.Errorf("Render() error = %v, want part %s wrapping %v", err, tt.part, tt.want)
			}
			if strings.Contains(err.Error(), "CANARY") {
				t.Errorf("error quotes data: %v", err)
			}
		})
	}
}

func TestRenderErrorPosition(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) {
		t.Text = "line\n  {{if eq .item_count 3}}x{{end}}"
	})
	_, err := tmpl.Render(baseData())
	var re *RenderError
	if !errors.As(err, &re) {
		t.Fatalf("Render() error = %v, want *RenderError", err)
	}
	if re.Line != 2 || re.Column == 0 {
		t.Errorf("position = %d:%d, want line 2", re.Line, re.Column)
	}
	if want := "render text at 2:"; !strings.HasPrefix(err.Error(), want) {
		t.Errorf("Error() = %q, want prefix %q", err.Error(), want)
	}
}

func TestRenderSubjectNeverHasLineBreak(t *testing.T) {
	t.Parallel()

	// A line break can only come from data; a single-line variable refuses
	// it, and the renderer checks again in case validation ever changes.
	c, err := baseTemplate().Compile()
	if err != nil {
		t.Fatal(err)
	}
	data := baseData()
	data["order_number"] = "A\nBcc: spy@attacker.test"
	_, err = c.render(data)
	if !errors.Is(err, ErrSubjectLineBreak) {
		t.Errorf("render() error = %v, want ErrSubjectLineBreak", err)
	}
}

func TestCompileCache(t *testing.T) {
	t.Parallel()

	a, err := baseTemplate().Compile()
	if err != nil {
		t.Fatal(err)
	}
	b, err := baseTemplate().Compile()
	if err != nil {
		t.Fatal(err)
	}
	if a != b {
		t.Error("equal templates compiled twice, want one cached form")
	}

	changed := withTemplate(func(t *Template) {
		t.Variables["first_name"] = Variable{Type: TypeString, Required: true, MaxLength: 2}
	})
	c, err := changed.Compile()
	if err != nil {
		t.Fatal(err)
	}
	if c == a {
		t.Fatal("changed variables reused the cached form")
	}
	wantProblem(t, changed.ValidateData(baseData()), "/data/first_name", "longer than 2")
}

func TestRenderConcurrent(t *testing.T) {
	t.Parallel()

	c, err := baseTemplate().Compile()
	if err != nil {
		t.Fatal(err)
	}
	want, err := c.Render(baseData())
	if err != nil {
		t.Fatal(err)
	}

	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				got, err := c.Render(baseData())
				if err != nil || *got != *want {
					t.Errorf("concurrent Render() = %+v, %v", got, err)
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestRenderedLogValue(t *testing.T) {
	t.Parallel()

	r := &Rendered{Subject: "PHI-CANARY", Text: "PHI-CANARY", HTML: "PHI-CANARY"}
	if s := r.LogValue().String(); strings.Contains(s, "CANARY") {
		t.Errorf("LogValue() = %s, quotes content", s)
	}
	tmpl := baseTemplate()
	if s := tmpl.LogValue().String(); strings.Contains(s, "Hi") || !strings.Contains(s, tmpl.Name) {
		t.Errorf("LogValue() = %s, want name only", s)
	}
}

// exampleData is data for each example template.
var exampleData = map[string]map[string]any{
	"order-shipped": {
		"first_name":   "Pat",
		"order_number": "A-1001",
		"tracking_url": "https://track.example.test/p/1Z999?lang=en&ref=mail",
		"shop_name":    "Corner Shop",
	},
	"password-reset": {
		"reset_url": "https://shop.example.test/reset/3kq9xw",
		"shop_name": "Corner Shop",
	},
	"appointment-reminder": {
		"first_name": "Pat",
		"shop_name":  "Corner Shop",
		"portal_url": "https://shop.example.test/p/b7Yx2",
	},
}

func TestExamplesGolden(t *testing.T) {
	t.Parallel()

	examples, err := Examples()
	if err != nil {
		t.Fatalf("Examples() = %v", err)
	}
	if len(examples) != len(exampleData) {
		t.Fatalf("got %d examples, want %d", len(examples), len(exampleData))
	}
	for _, ex := range examples {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()

			data, ok := exampleData[ex.Name]
			if !ok {
				t.Fatalf("no test data for example %q", ex.Name)
			}
			if err := ex.ValidateData(data); err != nil {
				t.Fatalf("ValidateData() = %v", err)
			}
			r, err := ex.Render(data)
			if err != nil {
				t.Fatalf("Render() = %v", err)
			}

			got := "Subject: " + r.Subject + "\n\n--- text ---\n" + r.Text +
				"--- html ---\n" + r.HTML
			golden := filepath.Join("testdata", ex.Name+".golden")
			if *update {
				if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("read golden file (run with -update to create): %v", err)
			}
			if got != string(want) {
				t.Errorf("rendered output differs from %s:\ngot:\n%s\nwant:\n%s", golden, got, want)
			}
		})
	}
}

func TestExamplesOptionalTracking(t *testing.T) {
	t.Parallel()

	examples, err := Examples()
	if err != nil {
		t.Fatal(err)
	}
	for _, ex := range examples {
		if ex.Name != "order-shipped" {
			continue
		}
		data := map[string]any{"first_name": "Pat", "order_number": "A-1", "shop_name": "S"}
		r, err := ex.Render(data)
		if err != nil {
			t.Fatalf("Render() = %v", err)
		}
		if strings.Contains(r.Text, "Track") || strings.Contains(r.HTML, "<a") {
			t.Errorf("tracking shown without tracking_url: %+v", r)
		}
		return
	}
	t.Fatal("order-shipped example missing")
}
