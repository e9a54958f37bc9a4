package phi

// Limits of the values that follow a label.
const (
	// maxLabelValue bounds the octets of an id after a label.
	maxLabelValue = 40

	// minLabelValue is the shortest id after a label that counts.
	minLabelValue = 3

	// maxLabelFillers bounds the separators and filler words ("is", "no",
	// "number") skipped between a label and its value.
	maxLabelFillers = 4
)

// codeAt checks for an ICD-10, NDC or SSN shape starting at token i. It
// returns the finding and the index of the first token after it.
func codeAt(text string, toks []token, i int) (Finding, int, bool) {
	s := toks[i].start
	var rule string
	end := 0
	if c := text[s]; c >= 'A' && c <= 'Z' {
		end = icd10At(text, s)
		rule = RuleICD10
	} else if isDigit(c) && !continuesDigitGroup(text, s) {
		end, rule = digitGroupsAt(text, s)
	}
	if end == 0 {
		return Finding{}, 0, false
	}

	next := i + 1
	for next < len(toks) && toks[next].start < end {
		next++
	}
	return newFinding(rule, s, end), next, true
}

// icd10At matches an ICD-10 code with its decimal point at s: an upper-case
// letter, a digit, a digit or upper-case letter, '.', and one to four digits
// or upper-case letters ("E11.9", "F32.A", "S72.001A"). The undotted form
// ("E119") is too like a product code to match without an "ICD" label.
func icd10At(text string, s int) int {
	if len(text)-s < 5 || !isDigit(text[s+1]) || !isDigitOrUpper(text[s+2]) ||
		text[s+3] != '.' {
		return 0
	}
	k := s + 4
	for k < len(text) && k-(s+4) < 4 && isDigitOrUpper(text[k]) {
		k++
	}
	if k == s+4 || k < len(text) && isWordByte(text[k]) {
		return 0
	}
	if k+1 < len(text) && text[k] == '.' && isWordByte(text[k+1]) {
		return 0 // a longer dotted value such as a version number
	}
	return k
}

func isDigitOrUpper(c byte) bool {
	return isDigit(c) || c >= 'A' && c <= 'Z'
}

// digitShapes are the hyphenated digit groups that are findings: the NDC
// labeler-product-package forms (4-4-2, 5-3-2, 5-4-1 and the 11-digit
// 5-4-2 billing form) and the SSN area-group-serial form (3-2-4).
var digitShapes = []struct {
	groups [3]int
	rule   string
}{
	{[3]int{4, 4, 2}, RuleNDC},
	{[3]int{5, 3, 2}, RuleNDC},
	{[3]int{5, 4, 1}, RuleNDC},
	{[3]int{5, 4, 2}, RuleNDC},
	{[3]int{3, 2, 4}, RuleSSN},
}

// digitGroupsAt matches exactly three hyphen-separated digit groups at s
// in one of digitShapes and returns their end and rule.
func digitGroupsAt(text string, s int) (int, string) {
	var lens [3]int
	k := s
	for g := 0; g < 3; g++ {
		if g > 0 {
			if k >= len(text) || text[k] != '-' {
				return 0, ""
			}
			k++
		}
		start := k
		for k < len(text) && isDigit(text[k]) {
			k++
		}
		lens[g] = k - start
		if lens[g] == 0 {
			return 0, ""
		}
	}
	if k < len(text) && isWordByte(text[k]) {
		return 0, ""
	}
	if k+1 < len(text) && text[k] == '-' && isDigit(text[k+1]) {
		return 0, "" // more groups: some other number
	}

	for _, shape := range digitShapes {
		if shape.groups == lens {
			return k, shape.rule
		}
	}
	return 0, ""
}

// continuesDigitGroup reports whether the digits at s follow "<digit>-", so
// they are a later group of a longer number, not the start of one.
func continuesDigitGroup(text string, s int) bool {
	return s >= 2 && text[s-1] == '-' && isDigit(text[s-2])
}

// labelValue looks past a label ending at k for its value: an id with at
// least one digit, or for a date label a date. It returns the end of the
// value. When no value follows but the label ends a stretch of text after
// ':' or '#' (the end of the text, or a NUL that stands for a template
// action), the label itself is the finding and k is returned.
func labelValue(text string, k int, date bool) (int, bool) {
	labelEnd := k
	sep := false
	for n := 0; n < maxLabelFillers; n++ {
		k = skipBlanks(text, k)
		if k >= len(text) {
			break
		}
		if c := text[k]; c == ':' || c == '#' || c == '=' {
			sep = true
			k++
			continue
		}
		if text[k] == '.' || text[k] == '-' {
			k++
			continue
		}
		if w := fillerAt(text, k); w > 0 {
			k += w
			continue
		}
		break
	}
	k = skipBlanks(text, k)

	if date {
		if end := dateAt(text, k); end > 0 {
			return end, true
		}
	} else if end := idAt(text, k); end > 0 {
		return end, true
	}
	if sep && (k >= len(text) || text[k] == 0) {
		return labelEnd, true
	}
	return 0, false
}

func skipBlanks(text string, k int) int {
	for k < len(text) && (text[k] == ' ' || text[k] == '\t') {
		k++
	}
	return k
}

// fillers are words allowed between a label and its value.
var fillers = []string{"is", "no", "nr", "num", "number", "was", "on"}

// fillerAt returns the length of a filler word at k, or 0.
func fillerAt(text string, k int) int {
	for _, f := range fillers {
		if len(text)-k < len(f) || !equalFoldASCII(text[k:k+len(f)], f) {
			continue
		}
		if k+len(f) < len(text) && isWordByte(text[k+len(f)]) {
			continue
		}
		return len(f)
	}
	return 0
}

func equalFoldASCII(s, lower string) bool {
	for k := 0; k < len(s); k++ {
		c := s[k]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c != lower[k] {
			return false
		}
	}
	return true
}

// idAt matches an id at k: letters, digits and inner hyphens, slashes or
// dots, with at least one digit, minLabelValue to maxLabelValue octets.
func idAt(text string, k int) int {
	end, digits := k, 0
	for end < len(text) && end-k < maxLabelValue {
		c := text[end]
		switch {
		case isDigit(c):
			digits++
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case (c == '-' || c == '/' || c == '.') && end > k && end+1 < len(text) &&
			isWordByte(text[end+1]) && text[end+1] < 0x80:
		default:
			goto done
		}
		end++
	}
done:
	if digits == 0 || end-k < minLabelValue || end < len(text) && isWordByte(text[end]) {
		return 0
	}
	return end
}

// dateAt matches a date at k: 03/14/1980, 14.03.1980, 1980-03-14,
// "March 14, 1980", "Mar 14" or "14 March 1980".
func dateAt(text string, k int) int {
	if end := numericDateAt(text, k); end > 0 {
		return end
	}
	if end := monthAt(text, k); end > 0 {
		e := skipBlanks(text, end)
		if d := digitsAt(text, e, 1, 2); d > 0 {
			e = d
			e = ordinalAt(text, e)
			if y := yearAfter(text, e); y > 0 {
				return y
			}
			if e < len(text) && isWordByte(text[e]) {
				return 0
			}
			return e
		}
		return 0
	}
	if d := digitsAt(text, k, 1, 2); d > 0 {
		e := skipBlanks(text, ordinalAt(text, d))
		if m := monthAt(text, e); m > 0 {
			if y := yearAfter(text, m); y > 0 {
				return y
			}
			return m
		}
	}
	return 0
}

// yearAfter matches ", 1980" or " 1980" at k.
func yearAfter(text string, k int) int {
	if k < len(text) && text[k] == ',' {
		k++
	}
	k = skipBlanks(text, k)
	if y := digitsAt(text, k, 4, 4); y > 0 && (y >= len(text) || !isWordByte(text[y])) {
		return y
	}
	return 0
}

func ordinalAt(text string, k int) int {
	for _, o := range []string{"st", "nd", "rd", "th"} {
		if len(text)-k >= 2 && equalFoldASCII(text[k:k+2], o) {
			return k + 2
		}
	}
	return k
}

// numericDateAt matches d{1,2}[/.-]d{1,2}[/.-]d{2,4} or d{4}-d{1,2}-d{1,2}.
func numericDateAt(text string, k int) int {
	a := digitsAt(text, k, 1, 4)
	if a == 0 || a >= len(text) {
		return 0
	}
	sep := text[a]
	if sep != '/' && sep != '-' && sep != '.' {
		return 0
	}
	b := digitsAt(text, a+1, 1, 2)
	if b == 0 || b >= len(text) || text[b] != sep {
		return 0
	}
	minYear, maxYear := 2, 4
	if a-k == 4 {
		minYear, maxYear = 1, 2
	} else if a-k > 2 {
		return 0
	}
	c := digitsAt(text, b+1, minYear, maxYear)
	if c == 0 || c < len(text) && isWordByte(text[c]) {
		return 0
	}
	return c
}

// digitsAt matches min to max digits at k and returns their end, or 0.
func digitsAt(text string, k, minN, maxN int) int {
	e := k
	for e < len(text) && e-k < maxN && isDigit(text[e]) {
		e++
	}
	if e-k < minN || e < len(text) && isDigit(text[e]) {
		return 0
	}
	return e
}

var months = []string{
	"january", "february", "march", "april", "may", "june", "july", "august",
	"september", "october", "november", "december",
	"jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep", "sept", "oct", "nov", "dec",
}

// monthAt matches a month name or abbreviation (with an optional '.') at k.
func monthAt(text string, k int) int {
	for _, m := range months {
		e := k + len(m)
		if e > len(text) || !equalFoldASCII(text[k:e], m) {
			continue
		}
		if e < len(text) && text[e] == '.' {
			e++
		} else if e < len(text) && isWordByte(text[e]) {
			continue
		}
		return e
	}
	return 0
}
