package mime

import (
	"io"
	"strings"
	"testing"
)

// benchMessage is a typical transactional message: about 2 KB of text and
// HTML with a little non-ASCII.
func benchMessage(b *testing.B) *Message {
	b.Helper()

	m := testMessage(b)
	m.boundary = ""
	m.Subject = "Your order #1042 has shipped – track it here"
	m.Text = strings.Repeat("Hello Zoë, your order has shipped and is on its way.\n", 14)
	m.HTML = "<html><body>" + strings.Repeat(
		`<p style="margin:0 0 12px">Your order has <b>shipped</b> &mdash; `+
			`<a href="https://example.test/t/abc">track it</a>.</p>`, 10) + "</body></html>"

	return m
}

func BenchmarkBytes(b *testing.B) {
	m := benchMessage(b)
	b.SetBytes(int64(len(m.Text) + len(m.HTML)))
	b.ReportAllocs()

	for b.Loop() {
		if _, err := m.Bytes(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkWriteTo(b *testing.B) {
	m := benchMessage(b)
	b.SetBytes(int64(len(m.Text) + len(m.HTML)))
	b.ReportAllocs()

	for b.Loop() {
		if _, err := m.WriteTo(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
}
