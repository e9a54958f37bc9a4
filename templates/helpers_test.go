package templates

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
)

// baseTemplate is a valid template using every variable type.
func baseTemplate() *Template {
	return &Template{
		Name:    "order-update",
		Version: 3,
		Subject: "Order {{.order_number}} from {{.shop_name}}",
		Text: "Hi {{.first_name}},\n{{if .shipped}}Shipped.{{end}}\n" +
			"Items: {{.item_count}}\nDue: {{.due}}\n{{with .tracking_url}}Track: {{.}}{{end}}\n" +
			"{{.note}}\n",
		HTML: `<p>Hi {{.first_name}}</p><p>{{.note}}</p>` +
			`{{if .tracking_url}}<a href="{{.tracking_url}}">Track</a>{{end}}`,
		Variables: map[string]Variable{
			"first_name":   {Type: TypeString, Required: true, MaxLength: 20},
			"order_number": {Type: TypeString, Required: true},
			"shop_name":    {Type: TypeString, Required: true},
			"shipped":      {Type: TypeBoolean},
			"item_count":   {Type: TypeNumber},
			"due":          {Type: TypeDate},
			"tracking_url": {Type: TypeURL},
			"note":         {Type: TypeString, Multiline: true},
		},
	}
}

// withTemplate returns baseTemplate changed by mutate.
func withTemplate(mutate func(*Template)) *Template {
	t := baseTemplate()
	t.Variables = maps.Clone(t.Variables)
	if mutate != nil {
		mutate(t)
	}
	return t
}

// baseData is valid data for baseTemplate.
func baseData() map[string]any {
	return map[string]any{
		"first_name":   "Pat",
		"order_number": "A-1001",
		"shop_name":    "Corner Shop",
		"shipped":      true,
		"item_count":   json.Number("3"),
		"due":          "2026-05-01",
		"tracking_url": "https://track.example.test/p/123?x=1&y=2",
		"note":         "line one\nline two",
	}
}

func withData(mutate func(map[string]any)) map[string]any {
	d := baseData()
	if mutate != nil {
		mutate(d)
	}
	return d
}

// problemsOf returns the problems of a *ValidationError, failing the test if
// err is anything else.
func problemsOf(t *testing.T, err error) []Problem {
	t.Helper()

	var ve *ValidationError
	if !errors.As(err, &ve) {
		t.Fatalf("error = %v (%T), want *ValidationError", err, err)
	}
	if !errors.Is(err, ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false")
	}
	return ve.Problems
}

// wantProblem fails unless err holds a problem for field whose detail
// contains detail.
func wantProblem(t *testing.T, err error, field, detail string) {
	t.Helper()

	ps := problemsOf(t, err)
	for _, p := range ps {
		if p.Field == field && strings.Contains(p.Detail, detail) {
			return
		}
	}
	t.Errorf("problems = %+v, want %s: ...%s...", ps, field, detail)
}
