package capture

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf8"
)

// FuzzDisplayText asserts that a decoded subject is valid UTF-8 on one line
// with no control characters, whatever encoded-words it held.
func FuzzDisplayText(f *testing.F) {
	f.Add("=?UTF-8?Q?Hi=0D=0ABcc:_spy@attacker.test?=")
	f.Add("=?ISO-8859-1?B?SGVsbG8gV29ybGQ=?=")
	f.Add("plain\x00text\r")
	f.Add("=?UTF-8?B?/w==?=")
	f.Fuzz(func(t *testing.T, raw string) {
		out := displayText(raw)
		if !utf8.ValidString(out) {
			t.Fatalf("display text %q is not valid UTF-8", out)
		}
		for _, r := range out {
			if unicode.IsControl(r) {
				t.Fatalf("display text %q keeps control character %U", out, r)
			}
		}
	})
}

// FuzzValidID asserts that any id accepted by validID names a file directly
// inside the inbox, and that issued ids are always accepted.
func FuzzValidID(f *testing.F) {
	f.Add("../secret")
	f.Add("0000000000000000abcdef00")
	f.Add(strings.Repeat(".", idLength))
	f.Fuzz(func(t *testing.T, id string) {
		if validID(id) {
			dir := filepath.Join("srv", "inbox")
			p := filepath.Join(dir, id+messageExt)
			if filepath.Dir(p) != dir || filepath.Base(p) != id+messageExt {
				t.Fatalf("id %q escapes the inbox as %q", id, p)
			}
		}
		issued, err := newID(time.Now())
		if err != nil || !validID(issued) {
			t.Fatalf("issued id %q rejected (%v)", issued, err)
		}
	})
}
