package templates

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
)

func TestValidateData(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name   string
		mutate func(map[string]any)
		field  string // "" means valid
		detail string
	}{
		{"base", nil, "", ""},
		{"optional missing", func(d map[string]any) {
			delete(d, "tracking_url")
			delete(d, "shipped")
			delete(d, "item_count")
			delete(d, "due")
			delete(d, "note")
		}, "", ""},
		{"optional null", func(d map[string]any) { d["tracking_url"] = nil }, "", ""},
		{"empty data with required", func(d map[string]any) { clear(d) },
			"/data/first_name", "is required"},

		{"unknown variable", func(d map[string]any) { d["diagnosis"] = "x" },
			"/data/diagnosis", "not a declared variable"},
		{"unknown invalid key", func(d map[string]any) { d["Bcc\r\n"] = "x" },
			"/data", "not a valid variable name"},
		{"required missing", func(d map[string]any) { delete(d, "order_number") },
			"/data/order_number", "is required"},
		{"required null", func(d map[string]any) { d["order_number"] = nil },
			"/data/order_number", "may not be null"},

		{"string given number", func(d map[string]any) { d["first_name"] = json.Number("1") },
			"/data/first_name", "must be a string"},
		{"string given bool", func(d map[string]any) { d["first_name"] = true },
			"/data/first_name", "must be a string"},
		{"string given object", func(d map[string]any) {
			d["first_name"] = map[string]any{"a": "b"}
		}, "/data/first_name", "not an object or array"},
		{"string given array", func(d map[string]any) { d["first_name"] = []any{"a"} },
			"/data/first_name", "not an object or array"},
		{"single-line LF", func(d map[string]any) { d["shop_name"] = "a\nb" },
			"/data/shop_name", "line break"},
		{"single-line CR", func(d map[string]any) { d["shop_name"] = "a\rb" },
			"/data/shop_name", "line break"},
		{"single-line CRLF", func(d map[string]any) { d["shop_name"] = "a\r\nBcc: x" },
			"/data/shop_name", "line break"},
		{"single-line U+2028", func(d map[string]any) { d["shop_name"] = "a\u2028b" },
			"/data/shop_name", "line break"},
		{"single-line NUL", func(d map[string]any) { d["shop_name"] = "a\x00b" },
			"/data/shop_name", "NUL"},
		{"single-line ESC", func(d map[string]any) { d["shop_name"] = "a\x1bb" },
			"/data/shop_name", "control character"},
		{"single-line DEL", func(d map[string]any) { d["shop_name"] = "a\x7fb" },
			"/data/shop_name", "control character"},
		{"single-line C1", func(d map[string]any) { d["shop_name"] = "a\u0085b" },
			"/data/shop_name", "control character"},
		{"single-line TAB ok", func(d map[string]any) { d["shop_name"] = "a\tb" }, "", ""},
		{"invalid UTF-8", func(d map[string]any) { d["shop_name"] = "a\xc3" },
			"/data/shop_name", "UTF-8"},
		{"multiline LF ok", func(d map[string]any) { d["note"] = "a\nb\n" }, "", ""},
		{"multiline CRLF ok", func(d map[string]any) { d["note"] = "a\r\nb\r\n" }, "", ""},
		{"multiline bare CR", func(d map[string]any) { d["note"] = "a\rb" },
			"/data/note", "carriage return"},
		{"multiline trailing CR", func(d map[string]any) { d["note"] = "a\r" },
			"/data/note", "carriage return"},
		{"multiline NUL", func(d map[string]any) { d["note"] = "a\n\x00" },
			"/data/note", "NUL"},
		{"multiline control", func(d map[string]any) { d["note"] = "a\n\x0b" },
			"/data/note", "control character"},
		{"declared max length ok", func(d map[string]any) {
			d["first_name"] = strings.Repeat("é", 20)
		}, "", ""},
		{"declared max length", func(d map[string]any) {
			d["first_name"] = strings.Repeat("é", 21)
		}, "/data/first_name", "longer than 20 characters"},
		{"default max length", func(d map[string]any) {
			d["shop_name"] = strings.Repeat("a", DefaultMaxLength+1)
		}, "/data/shop_name", "longer than 1000 characters"},
		{"multiline default max length", func(d map[string]any) {
			d["note"] = strings.Repeat("a\n", DefaultMultilineMaxLength/2+1)
		}, "/data/note", "longer than 10000 characters"},

		{"number float64", func(d map[string]any) { d["item_count"] = 2.5 }, "", ""},
		{"number int", func(d map[string]any) { d["item_count"] = 7 }, "", ""},
		{"number negative exponent", func(d map[string]any) {
			d["item_count"] = json.Number("-1.5e-3")
		}, "", ""},
		{"number given string", func(d map[string]any) { d["item_count"] = "3" },
			"/data/item_count", "must be a number"},
		{"number overflow", func(d map[string]any) { d["item_count"] = json.Number("1e400") },
			"/data/item_count", "finite"},
		{"number NaN text", func(d map[string]any) { d["item_count"] = json.Number("NaN") },
			"/data/item_count", "finite"},
		{"number hex text", func(d map[string]any) { d["item_count"] = json.Number("0x10") },
			"/data/item_count", "finite"},
		{"number leading zero", func(d map[string]any) { d["item_count"] = json.Number("01") },
			"/data/item_count", "finite"},
		{"number float64 inf", func(d map[string]any) { d["item_count"] = math.Inf(1) },
			"/data/item_count", "finite"},
		{"number float64 NaN", func(d map[string]any) { d["item_count"] = math.NaN() },
			"/data/item_count", "finite"},
		{"number too long", func(d map[string]any) {
			d["item_count"] = json.Number("0." + strings.Repeat("1", MaxNumberLength))
		}, "/data/item_count", "longer than"},

		{"boolean given string", func(d map[string]any) { d["shipped"] = "true" },
			"/data/shipped", "true or false"},
		{"boolean false", func(d map[string]any) { d["shipped"] = false }, "", ""},

		{
			"date RFC 3339",
			func(d map[string]any) { d["due"] = "2026-05-01T10:00:00+02:00" },
			"",
			"",
		},
		{"date RFC 3339 fraction", func(d map[string]any) {
			d["due"] = "2026-05-01T10:00:00.123Z"
		}, "", ""},
		{"date wrong format", func(d map[string]any) { d["due"] = "05/01/2026" },
			"/data/due", "YYYY-MM-DD or RFC 3339"},
		{"date impossible", func(d map[string]any) { d["due"] = "2026-02-30" },
			"/data/due", "YYYY-MM-DD"},
		{"date with LF", func(d map[string]any) { d["due"] = "2026-05-01\n" },
			"/data/due", "YYYY-MM-DD"},
		{"date given number", func(d map[string]any) { d["due"] = json.Number("20260501") },
			"/data/due", "must be a date string"},

		{"url localhost http", func(d map[string]any) {
			d["tracking_url"] = "http://localhost:8025/t/1"
		}, "", ""},
		{"url loopback http", func(d map[string]any) {
			d["tracking_url"] = "http://127.0.0.1:8025/t/1"
		}, "", ""},
		{"url uppercase scheme", func(d map[string]any) {
			d["tracking_url"] = "HTTPS://example.test/"
		}, "", ""},
		{"url http remote", func(d map[string]any) {
			d["tracking_url"] = "http://example.test/t"
		}, "/data/tracking_url", "https"},
		{"url javascript", func(d map[string]any) {
			d["tracking_url"] = "javascript:alert(1)"
		}, "/data/tracking_url", "https"},
		{"url data", func(d map[string]any) {
			d["tracking_url"] = "data:text/html;base64,PHNjcmlwdD4="
		}, "/data/tracking_url", "https"},
		{"url relative", func(d map[string]any) { d["tracking_url"] = "/t/1" },
			"/data/tracking_url", "https"},
		{"url no host", func(d map[string]any) { d["tracking_url"] = "https:///t/1" },
			"/data/tracking_url", "host"},
		{"url opaque", func(d map[string]any) { d["tracking_url"] = "https:example.test" },
			"/data/tracking_url", "host"},
		{"url userinfo", func(d map[string]any) {
			d["tracking_url"] = "https://user:pw@example.test/"
		}, "/data/tracking_url", "user information"},
		{"url backslash", func(d map[string]any) {
			d["tracking_url"] = `https://example.test\@attacker.test/`
		}, "/data/tracking_url", "backslashes"},
		{"url space", func(d map[string]any) {
			d["tracking_url"] = "https://example.test/a b"
		}, "/data/tracking_url", "spaces"},
		{"url CRLF", func(d map[string]any) {
			d["tracking_url"] = "https://example.test/\r\nBcc: x"
		}, "/data/tracking_url", "line break"},
		{"url too long", func(d map[string]any) {
			d["tracking_url"] = "https://example.test/" + strings.Repeat("a", MaxURLLength)
		}, "/data/tracking_url", "longer than 2048"},
		{"url given object", func(d map[string]any) {
			d["tracking_url"] = map[string]any{}
		}, "/data/tracking_url", "not an object or array"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := baseTemplate().ValidateData(withData(tt.mutate))
			if tt.field == "" {
				if err != nil {
					t.Fatalf("ValidateData() = %v, want nil", err)
				}
				return
			}
			wantProblem(t, err, tt.field, tt.detail)
		})
	}
}

// TestValidateDataNeverEchoesValues sends a canary in every kind of bad
// value and checks that no problem quotes it.
func TestValidateDataNeverEchoesValues(t *testing.T) {
	t.Parallel()

	const canary = "PHI-CANARY-7f3a"
	data := map[string]any{
		"first_name":   canary + "\r\nBcc: x",
		"shop_name":    strings.Repeat(canary, 100),
		"order_number": map[string]any{canary: canary},
		"shipped":      canary,
		"item_count":   json.Number(canary),
		"due":          canary,
		"tracking_url": "javascript:" + canary,
		"note":         canary + "\r" + canary,
		"diagnosis":    canary,
		canary:         canary,
	}
	err := baseTemplate().ValidateData(data)
	if err == nil {
		t.Fatal("ValidateData() = nil, want error")
	}
	if strings.Contains(err.Error(), "CANARY") {
		t.Errorf("error quotes data: %v", err)
	}
	if n := len(problemsOf(t, err)); n != 10 {
		t.Errorf("got %d problems, want 10: %v", n, err)
	}
}

func TestValidateDataTooManyProblems(t *testing.T) {
	t.Parallel()

	data := baseData()
	for i := range 3 * MaxProblems {
		data["x"+strings.Repeat("a", i%60)+string(rune('a'+i/60))] = "v"
	}
	ps := problemsOf(t, baseTemplate().ValidateData(data))
	if len(ps) != MaxProblems+1 {
		t.Fatalf("got %d problems, want %d", len(ps), MaxProblems+1)
	}
	if last := ps[len(ps)-1]; !strings.Contains(last.Detail, "more problems") {
		t.Errorf("last problem = %+v, want a note about more problems", last)
	}
}

func TestValidateDataChecksRenderedSubject(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) {
		t.Subject = "{{.shop_name}}{{.shop_name}}"
	})
	tests := []struct {
		name   string
		shop   string
		detail string
	}{
		{"too long", strings.Repeat("a", 500), "too large"},
		{"blank", " ", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			err := tmpl.ValidateData(withData(func(d map[string]any) { d["shop_name"] = tt.shop }))
			wantProblem(t, err, "/subject", tt.detail)
		})
	}
}

func TestValidateDataInvalidTemplate(t *testing.T) {
	t.Parallel()

	tmpl := withTemplate(func(t *Template) { t.Subject = "" })
	wantProblem(t, tmpl.ValidateData(baseData()), "/subject", "is required")
}
