package templates

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"

	"github.com/sealpost/sealpost/templates/phi"
)

// Rules reported in [Problem.Rule] besides the rules of package phi, which
// name what a lint finding found (such as "medication" or "date-of-birth").
const (
	RuleUnknownClass     = "unknown-class"
	RuleUnknownCategory  = "unknown-category"
	RulePHIVariableName  = "phi-variable-name"
	RuleSensitiveInPart  = "sensitive-in-part"
	RuleClassInSubject   = "class-in-subject"
	RulePromotional      = "promotional-in-transactional"
	RuleInvalidJSON      = "invalid-json"
	RuleLintFileTooLarge = "file-too-large"
)

// findingDetail is the detail of a lint finding: the reason, the rule and
// the position, never the matched text.
const findingDetail = "%s (rule %s) at %d:%d"

// MaxLintFile bounds the template file LintFile reads: three parts at their
// limits plus the variables and JSON escaping.
const MaxLintFile = 4 << 20

// span is a byte range of a part's source.
type span struct {
	start, end int
}

// staticText is the text of one part that is not template actions.
type staticText struct {
	part  string
	src   string
	spans []span
}

// slot stands for a template action (and, in HTML, for the edges of an
// attribute value) in masked text: the linter treats it as a break between
// phrases and as the end of a stretch of text after a label.
const slot = 0

// masked returns the source with everything but the static text replaced
// by slot bytes, and in the HTML part with markup replaced by spaces, so
// that offsets in it are offsets in the source.
func (st staticText) masked() string {
	b := bytes.Repeat([]byte{slot}, len(st.src))
	for _, s := range st.spans {
		copy(b[s.start:s.end], st.src[s.start:s.end])
	}
	if st.part == partHTML {
		maskHTML(b)
	}
	return string(b)
}

// lintStatic lints the static text of each part: every finding is a
// problem naming the rule and the line and column in the part's source. A
// transactional template whose static text reads like marketing gets one
// problem too.
func lintStatic(ps *problems, parts []staticText, category string) {
	l := phi.Default()
	promo := false
	for _, st := range parts {
		text := st.masked()
		findings := l.Scan(text)
		if len(findings) == 0 {
			// A second look at the text as a reader sees it: entities
			// decoded, invisible characters removed. Its offsets do not map
			// to the source, so the problem names the part only.
			if st.part == partHTML {
				text = readerText(st.src)
			}
			if f, found := l.ScanFolded(text); found {
				ps.addProblem(Problem{Field: "/" + st.part, Rule: f.Rule,
					Detail: f.Reason + " (rule " + f.Rule + "), hidden by character references " +
						"or invisible characters"})
			}
		}
		for _, f := range findings {
			line, col := position(st.src, f.Start)
			ps.addProblem(Problem{
				Field:  "/" + st.part,
				Rule:   f.Rule,
				Line:   line,
				Column: col,
				Detail: fmt.Sprintf(findingDetail, f.Reason, f.Rule, line, col),
			})
		}
		if !promo && category != CategoryMarketing && phi.LooksPromotional(text) {
			promo = true
			ps.addProblem(Problem{Field: "/" + st.part, Rule: RulePromotional,
				Detail: "reads like marketing (rule " + RulePromotional +
					"); a marketing template needs the category marketing"})
		}
	}
}

// position returns the 1-based line and column (in characters) of byte
// offset off in src.
func position(src string, off int) (line, col int) {
	lineStart := strings.LastIndexByte(src[:off], '\n') + 1
	line = strings.Count(src[:off], "\n") + 1
	col = utf8.RuneCountInString(src[lineStart:off]) + 1
	return line, col
}

// maskHTML replaces markup in b with spaces, keeping visible text and
// attribute values. Tag and attribute names, comments, and the content of
// script and style elements are masked; the quotes around a value become
// slot bytes so a value is a phrase of its own. Character references become
// spaces. Slot bytes already in b (template actions) stay.
func maskHTML(b []byte) {
	for k := 0; k < len(b); {
		switch {
		case b[k] == '<' && k+3 < len(b) && string(b[k:k+4]) == "<!--":
			k = maskUntil(b, k, "-->")
		case b[k] == '<' && k+1 < len(b) && isTagStart(b[k+1]):
			name, end := maskTag(b, k)
			k = end
			if name == "script" || name == "style" {
				k = maskUntil(b, k, "</"+name)
			}
		case b[k] == '&':
			k = maskReference(b, k)
		default:
			k++
		}
	}
}

func isTagStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '/' || c == '!' || c == '?'
}

// maskUntil masks from k through the end of the next marker (or to the end
// of b) and returns the index after it.
func maskUntil(b []byte, k int, marker string) int {
	end := len(b)
	if i := bytes.Index(bytes.ToLower(b[k:]), []byte(marker)); i >= 0 {
		end = k + i + len(marker)
	}
	blank(b[k:end])
	return end
}

// blank replaces the bytes of b with spaces, keeping slot bytes.
func blank(b []byte) {
	for i := range b {
		if b[i] != slot {
			b[i] = ' '
		}
	}
}

// maskTag masks the tag starting at k, keeping its attribute values, and
// returns its lower-cased name and the index after it.
func maskTag(b []byte, k int) (string, int) {
	i := k + 1
	for i < len(b) && b[i] != '>' && b[i] != ' ' && b[i] != '\t' && b[i] != '\n' &&
		b[i] != '\r' && b[i] != '/' || i == k+1 && i < len(b) && b[i] == '/' {
		i++
	}
	name := strings.ToLower(strings.TrimPrefix(string(b[k+1:i]), "/"))
	blank(b[k:i])

	for i < len(b) && b[i] != '>' {
		switch c := b[i]; {
		case c == '"' || c == '\'':
			b[i] = slot
			j := i + 1
			for j < len(b) && b[j] != c {
				j++
			}
			if j < len(b) {
				b[j] = slot
				j++
			}
			i = j
		case c == '=':
			b[i] = slot
			i++
			for i < len(b) && b[i] == ' ' {
				i++
			}
			if i < len(b) && b[i] != '"' && b[i] != '\'' {
				for i < len(b) && b[i] != ' ' && b[i] != '>' && b[i] != '\t' && b[i] != '\n' {
					i++
				}
				if i < len(b) && b[i] != '>' {
					b[i] = slot
					i++
				}
			}
		case c == slot:
			i++
		default:
			b[i] = ' '
			i++
		}
	}
	if i < len(b) {
		b[i] = ' '
		i++
	}
	return name, i
}

// maskReference masks a character reference such as "&amp;" or "&#8217;"
// at k and returns the index after it; a lone '&' is left as it is.
func maskReference(b []byte, k int) int {
	const maxReference = 32
	for j := k + 1; j < len(b) && j-k <= maxReference; j++ {
		c := b[j]
		switch {
		case c == ';':
			blank(b[k : j+1])
			return j + 1
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', c == '#':
		default:
			return k + 1
		}
	}
	return k + 1
}

// LintFile reads a template file (the JSON of a template: subject, text,
// html, variables and optionally name, version and category), validates and
// lints it as saving would, and returns the problems found, each with its
// rule and, for lint findings, the line and column in the part's source.
// A file without a name is named after the file. JSON that does not decode
// is reported as one problem with the rule "invalid-json" and its position
// in the file. The error is for a file that cannot be read.
func LintFile(path string) ([]Problem, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("open template file: %w", err)
	}
	defer f.Close()

	b, err := io.ReadAll(io.LimitReader(f, MaxLintFile+1))
	if err != nil {
		return nil, fmt.Errorf("read template file: %w", err)
	}
	if len(b) > MaxLintFile {
		return []Problem{{Field: "", Rule: RuleLintFileTooLarge,
			Detail: fmt.Sprintf("is larger than %d octets", MaxLintFile)}}, nil
	}

	t, p := decodeTemplateFile(b)
	if p != nil {
		return []Problem{*p}, nil
	}
	if t.Name == "" {
		t.Name = nameFromPath(path)
	}

	err = t.Validate()
	var ve *ValidationError
	if errors.As(err, &ve) {
		return ve.Problems, nil
	}
	if err != nil {
		return nil, fmt.Errorf("validate template: %w", err)
	}
	return nil, nil
}

// decodeTemplateFile decodes the JSON of a template, refusing unknown
// fields, or returns a problem with the position of the error.
func decodeTemplateFile(b []byte) (*Template, *Problem) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var t Template
	err := dec.Decode(&t)
	if err == nil && dec.More() {
		err = errors.New("holds more than one JSON value")
	}
	if err == nil {
		return &t, nil
	}

	p := &Problem{Rule: RuleInvalidJSON, Detail: "is not a template: " + jsonErrorDetail(err)}
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		p.Line, p.Column = position(string(b), clampOffset(se.Offset, len(b)))
	case errors.As(err, &te):
		p.Line, p.Column = position(string(b), clampOffset(te.Offset, len(b)))
		p.Field = "/" + strings.ReplaceAll(te.Field, ".", "/")
	}
	return nil, p
}

// jsonErrorDetail describes a decoding error without quoting the input.
func jsonErrorDetail(err error) string {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		return "JSON syntax error"
	case errors.As(err, &te):
		return "a field has the wrong type"
	case strings.HasPrefix(err.Error(), "json: unknown field"):
		return "has an unknown field"
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return "JSON ends early"
	default:
		return "holds more than one JSON value or is not an object"
	}
}

func clampOffset(off int64, n int) int {
	switch {
	case off < 0:
		return 0
	case off > int64(n):
		return n
	}
	return int(off)
}

// nameFromPath makes a template name of a file name: its base without the
// extension, lower-cased; "template" when that is not a valid name.
func nameFromPath(path string) string {
	base := strings.ToLower(strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)))
	if isTemplateName(base) {
		return base
	}
	return "template"
}

// readerText returns the text and attribute values of HTML as a reader
// sees them, character references decoded, with a break between pieces.
func readerText(src string) string {
	var b strings.Builder
	z := xhtml.NewTokenizer(strings.NewReader(src))
	skip := false // inside script or style, which are not read
	for {
		switch z.Next() {
		case xhtml.ErrorToken:
			return b.String()
		case xhtml.TextToken:
			if !skip {
				b.Write(z.Text())
				b.WriteByte(' ')
			}
		case xhtml.EndTagToken:
			skip = false
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			skip = string(name) == "script" || string(name) == "style"
			for hasAttr {
				var val []byte
				_, val, hasAttr = z.TagAttr()
				b.Write(val)
				b.WriteByte(' ')
			}
		}
	}
}
