package templates

import (
	"testing"
)

func benchExample(b *testing.B) (*Template, map[string]any) {
	b.Helper()

	examples, err := Examples()
	if err != nil {
		b.Fatal(err)
	}
	for _, ex := range examples {
		if ex.Name == "order-shipped" {
			return ex, exampleData[ex.Name]
		}
	}
	b.Fatal("order-shipped example missing")
	return nil, nil
}

// BenchmarkRender renders the order-shipped example through Template.Render,
// as a worker does with a template freshly decoded from storage.
func BenchmarkRender(b *testing.B) {
	tmpl, data := benchExample(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompiledRender renders through a held *Compiled.
func BenchmarkCompiledRender(b *testing.B) {
	tmpl, data := benchExample(b)
	c, err := tmpl.Compile()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Render(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkValidateData checks data as the API does on accept.
func BenchmarkValidateData(b *testing.B) {
	tmpl, data := benchExample(b)
	b.ReportAllocs()
	for b.Loop() {
		if err := tmpl.ValidateData(data); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkCompile measures the cold path the cache saves.
func BenchmarkCompile(b *testing.B) {
	tmpl, _ := benchExample(b)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := tmpl.compile(); err != nil {
			b.Fatal(err)
		}
	}
}
