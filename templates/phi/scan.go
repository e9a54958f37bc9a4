package phi

import (
	"io/fs"
	"sync"
	"unicode"
	"unicode/utf8"
)

// Finding is one match: the rule and its category, the byte offsets of the
// match in the scanned text, and a reason that says what was found without
// quoting it.
type Finding struct {
	Rule     string `json:"rule"`
	Category string `json:"category"`
	Start    int    `json:"start"`
	End      int    `json:"end"`
	Reason   string `json:"reason"`
}

// Linter finds health information in text. It is immutable and safe for
// concurrent use.
type Linter struct {
	root  *node
	terms int
}

var defaultLinter = sync.OnceValue(func() *Linter {
	l, err := newLinter(lexiconFiles)
	if err != nil {
		// The lexicon is compiled into the binary and tested; a broken one
		// is a build defect, not a runtime condition.
		panic(err)
	}
	return l
})

// Default returns the linter built from the embedded lexicon. It is built
// on first use and shared.
func Default() *Linter {
	return defaultLinter()
}

func newLinter(fsys fs.FS) (*Linter, error) {
	root, terms, err := buildTrie(fsys)
	if err != nil {
		return nil, err
	}
	return &Linter{root: root, terms: terms}, nil
}

// Terms reports how many lexicon lines (terms, labels and allowed phrases,
// before variants) the linter was built from.
func (l *Linter) Terms() int {
	return l.terms
}

// Scan returns every finding in text, in order of their start offsets.
// Findings do not overlap. Offsets fall on rune boundaries of text.
func (l *Linter) Scan(text string) []Finding {
	var out []Finding
	l.scan(text, func(f Finding) bool {
		out = append(out, f)
		return true
	})
	return out
}

// ScanFirst returns the first finding in text, stopping there. It is the
// fast path for checking a message value.
func (l *Linter) ScanFirst(text string) (Finding, bool) {
	var first Finding
	found := false
	l.scan(text, func(f Finding) bool {
		first, found = f, true
		return false
	})
	return first, found
}

// token is a word of the text by byte offsets.
type token struct {
	start, end int
}

// scan calls emit for each finding until emit returns false.
func (l *Linter) scan(text string, emit func(Finding) bool) {
	toks := tokenize(text)
	if len(toks) == 0 {
		return
	}
	lower := lowerASCII(text)

	for i := 0; i < len(toks); {
		e, last := l.longest(text, lower, toks, i)
		if e == nil {
			f, next, ok := codeAt(text, toks, i)
			if ok {
				if !emit(f) {
					return
				}
				i = next
				continue
			}
			i++
			continue
		}

		start, end := toks[i].start, toks[last].end
		switch e.kind {
		case kindAllow:
			i = last + 1
			continue
		case kindLabelID, kindLabelDate:
			valueEnd, ok := labelValue(text, end, e.kind == kindLabelDate)
			if !ok {
				i = last + 1
				continue
			}
			end = valueEnd
		}
		if !emit(newFinding(e.rule, start, end)) {
			return
		}
		i = last + 1
		for i < len(toks) && toks[i].start < end {
			i++
		}
	}
}

func newFinding(rule string, start, end int) Finding {
	cat := CategoryHealth
	switch rule {
	case RuleICD10, RuleNDC, RuleSSN, RuleMRN, RuleMember, RuleDOB, RuleService:
		cat = CategoryIdentifier
	}
	return Finding{Rule: rule, Category: cat, Start: start, End: end, Reason: reasons[rule]}
}

// longest walks the trie from token i and returns the longest entry that
// matches there and the index of its last token.
func (l *Linter) longest(text, lower string, toks []token, i int) (*entry, int) {
	var best *entry
	bestLast := -1

	n := l.root
	for j := i; j < len(toks); j++ {
		if j > i && !gapJoins(text[toks[j-1].end:toks[j].start]) {
			break
		}
		n = n.next[fold(lower[toks[j].start:toks[j].end])]
		if n == nil {
			break
		}
		if n.hit != nil && exactMatches(n.hit, text, toks[i:j+1]) {
			best, bestLast = n.hit, j
		}
		if n.next == nil {
			break
		}
	}
	return best, bestLast
}

// exactMatches reports whether the words of toks are written as the term
// with capitals is; a term without capitals always matches.
func exactMatches(e *entry, text string, toks []token) bool {
	if e.exact == nil {
		return true
	}
	if len(toks) != len(e.exact) {
		return false
	}
	for k, t := range toks {
		w, want := text[t.start:t.end], e.exact[k]
		if w == want || k == len(toks)-1 && w == want+"s" {
			continue
		}
		return false
	}
	return true
}

// gapJoins reports whether the text between two words keeps them in one
// phrase: spaces, line breaks, hyphens, slashes, apostrophes (with a
// possessive s) and non-ASCII separators such as a no-break space or a
// typographic apostrophe, but no sentence punctuation.
func gapJoins(gap string) bool {
	for k := 0; k < len(gap); k++ {
		switch c := gap[k]; {
		case c == ' ', c == '\t', c == '\n', c == '\r', c == '-', c == '/', c == '\'':
		case c >= 0x80:
		case c == 's' && k > 0 && (gap[k-1] == '\'' || gap[k-1] == 0x99):
		default:
			return false
		}
	}
	return true
}

// tokenize splits text into words: runs of ASCII letters and digits and
// non-ASCII letters, digits and marks. A possessive "s" after an apostrophe
// is not a word of its own.
func tokenize(text string) []token {
	toks := make([]token, 0, len(text)/6+1)
	start := -1
	for k := 0; k < len(text); {
		c := text[k]
		size := 1
		word := false
		if c < utf8.RuneSelf {
			word = c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		} else {
			var r rune
			r, size = utf8.DecodeRuneInString(text[k:])
			word = r != utf8.RuneError &&
				(unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsMark(r))
		}

		switch {
		case word && start < 0:
			start = k
		case !word && start >= 0:
			toks = append(toks, token{start, k})
			start = -1
			if n := possessiveS(text, k); n > 0 {
				k += n
				continue
			}
		}
		k += size
	}
	if start >= 0 {
		toks = append(toks, token{start, len(text)})
	}
	return toks
}

// possessiveS returns the length of an apostrophe and "s" at k that end a
// word ("crohn's", "Crohn’s"), or 0.
func possessiveS(text string, k int) int {
	n := 0
	switch {
	case text[k] == '\'':
		n = 1
	case len(text)-k >= 3 && text[k:k+3] == "\u2019":
		n = 3
	default:
		return 0
	}
	if k+n >= len(text) || text[k+n] != 's' && text[k+n] != 'S' {
		return 0
	}
	if k+n+1 < len(text) && isWordByte(text[k+n+1]) {
		return 0
	}
	return n + 1
}

func isWordByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c >= 0x80
}

func isDigit(c byte) bool {
	return c >= '0' && c <= '9'
}

// lowerASCII lower-cases ASCII letters only, so byte offsets stay the same.
func lowerASCII(s string) string {
	for k := 0; k < len(s); k++ {
		if c := s[k]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for ; k < len(b); k++ {
				if c := b[k]; c >= 'A' && c <= 'Z' {
					b[k] = c + 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}
