package phi

import (
	"html"
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// Fold returns text as a reader sees it, for a second scan that evasions
// cannot slip past: HTML character references decoded, compatibility forms
// folded (NFKC: fullwidth and mathematical letters become plain ones), and
// invisible format characters (zero-width spaces and joiners, soft
// hyphens, byte order marks) removed. Offsets in the result do not match
// the input; use it to decide, not to locate.
func Fold(text string) string {
	text = html.UnescapeString(text)
	text = norm.NFKC.String(text)
	return strings.Map(func(r rune) rune {
		if unicode.Is(unicode.Cf, r) {
			return -1
		}
		return r
	}, text)
}

// ScanFolded is ScanFirst on Fold(text).
func (l *Linter) ScanFolded(text string) (Finding, bool) {
	return l.ScanFirst(Fold(text))
}
