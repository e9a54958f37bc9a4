package templates

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	htmltemplate "html/template"
	"io"
	"log/slog"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	texttemplate "text/template"
)

// Compiled is a validated template with its parts parsed, ready to render.
// It is immutable and safe for concurrent use.
type Compiled struct {
	name    string
	version int
	vars    map[string]Variable
	subject *texttemplate.Template
	text    *texttemplate.Template
	html    *htmltemplate.Template // nil when the template has no HTML part
}

// LogValue logs a compiled template by name and version.
func (c *Compiled) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", c.name), slog.Int("version", c.version))
}

// Rendered is the output of a render: a single-line subject, the text body
// and the sanitised HTML body ("" when the template has no HTML part).
type Rendered struct {
	Subject string
	Text    string
	HTML    string
}

// LogValue logs the sizes of the parts, never their content.
func (r *Rendered) LogValue() slog.Value {
	return slog.GroupValue(
		slog.Int("subject_octets", len(r.Subject)),
		slog.Int("text_octets", len(r.Text)),
		slog.Int("html_octets", len(r.HTML)),
	)
}

// Compile validates t and returns its compiled form; the error is the one
// from Validate. Compiled forms are cached by the content of the template,
// so compiling an unchanged template again, even one freshly decoded from
// storage, is cheap.
func (t *Template) Compile() (*Compiled, error) {
	return t.cached()
}

// Render validates data as ValidateData does and renders the template: the
// subject and text with text/template, the HTML with html/template followed
// by SanitizeHTML. A problem with the data (or with the template itself,
// as Validate reports it) is returned as a *ValidationError, a rendering
// failure as a *RenderError; neither quotes the data.
func (t *Template) Render(data map[string]any) (*Rendered, error) {
	c, err := t.cached()
	if err != nil {
		return nil, err
	}
	return c.Render(data)
}

// Render is [Template.Render] on the compiled template.
func (c *Compiled) Render(data map[string]any) (*Rendered, error) {
	var ps problems

	c.checkData(&ps, data)
	if !ps.empty() {
		return nil, ps.err()
	}
	return c.render(data)
}

// render renders data that has passed checkData.
func (c *Compiled) render(data map[string]any) (*Rendered, error) {
	var r Rendered
	d := c.renderData(data)

	subject, err := execute(c.subject, partSubject, d, MaxSubjectOctets)
	if err != nil {
		return nil, err
	}
	if strings.ContainsAny(subject, "\r\n\u2028\u2029") {
		return nil, &RenderError{Part: partSubject, Err: ErrSubjectLineBreak}
	}
	r.Subject = strings.TrimSpace(subject)
	if r.Subject == "" {
		return nil, &RenderError{Part: partSubject, Err: ErrSubjectEmpty}
	}

	r.Text, err = execute(c.text, partText, d, MaxRenderedPart)
	if err != nil {
		return nil, err
	}

	if c.html != nil {
		html, err := execute(c.html, partHTML, d, MaxRenderedPart)
		if err != nil {
			return nil, err
		}
		r.HTML = SanitizeHTML(html)
	}
	return &r, nil
}

// renderData maps every declared variable to the value a template sees: a
// missing one to "" (false for a boolean) so that {{if .name}} works under
// missingkey=error, and numbers to their decimal text. A sensitive variable
// is always treated as missing: its value never reaches a part, even if a
// template that uses it were to get past validation.
func (c *Compiled) renderData(data map[string]any) map[string]any {
	d := make(map[string]any, len(c.vars))
	for name, decl := range c.vars {
		v := data[name]
		if decl.class() == ClassSensitive {
			v = nil
		}
		switch v := v.(type) {
		case nil:
			if decl.Type == TypeBoolean {
				d[name] = false
			} else {
				d[name] = ""
			}
		case json.Number:
			d[name] = string(v)
		case float64:
			d[name] = formatFloat(v)
		case int:
			d[name] = strconv.Itoa(v)
		case int64:
			d[name] = strconv.FormatInt(v, 10)
		default:
			d[name] = v
		}
	}
	return d
}

// formatFloat writes whole numbers below 1e15 without an exponent, as a
// JSON number would usually be written, and others in the shortest form.
func formatFloat(v float64) string {
	if v == math.Trunc(v) && math.Abs(v) < 1e15 {
		return strconv.FormatFloat(v, 'f', -1, 64)
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

// executor is what text/template and html/template templates share.
type executor interface {
	Execute(w io.Writer, data any) error
}

// execPosition finds the source position in an execution error. The rest of
// the error text is dropped because it can quote data.
var execPosition = regexp.MustCompile(`^template: [a-z]+:(\d+):(\d+):`)

func execute(tmpl executor, part string, data any, limit int) (string, error) {
	w := limitWriter{limit: limit}
	err := tmpl.Execute(&w, data)
	if err == nil {
		return w.b.String(), nil
	}

	if w.over {
		return "", &RenderError{Part: part, Err: ErrOutputTooLarge}
	}
	re := &RenderError{Part: part, Err: ErrRender}
	if m := execPosition.FindStringSubmatch(err.Error()); m != nil {
		re.Line, _ = strconv.Atoi(m[1])
		re.Column, _ = strconv.Atoi(m[2])
	}
	return "", re
}

// limitWriter collects output and fails once it would exceed limit octets.
type limitWriter struct {
	b     strings.Builder
	limit int
	over  bool
}

func (w *limitWriter) Write(p []byte) (int, error) {
	if w.b.Len()+len(p) > w.limit {
		w.over = true
		return 0, ErrOutputTooLarge
	}
	return w.b.Write(p)
}

// compileCacheSize bounds the compiled templates kept in memory. When the
// cache is full it is emptied and refilled by use.
const compileCacheSize = 256

// compileCache maps a template fingerprint to its compiled form. Only valid
// templates are cached.
var compileCache = struct {
	sync.RWMutex
	m map[[sha256.Size]byte]*Compiled
}{m: make(map[[sha256.Size]byte]*Compiled)}

func (t *Template) cached() (*Compiled, error) {
	key := t.fingerprint()

	compileCache.RLock()
	c := compileCache.m[key]
	compileCache.RUnlock()
	if c != nil {
		return c, nil
	}

	c, err := t.compile()
	if err != nil {
		return nil, err
	}

	compileCache.Lock()
	if len(compileCache.m) >= compileCacheSize {
		clear(compileCache.m)
	}
	compileCache.m[key] = c
	compileCache.Unlock()
	return c, nil
}

// fingerprint hashes everything compile reads, each field length-prefixed.
func (t *Template) fingerprint() [sha256.Size]byte {
	h := sha256.New()
	buf := make([]byte, 0, 64)
	str := func(s string) {
		buf = binary.AppendUvarint(buf[:0], uint64(len(s)))
		h.Write(buf)
		io.WriteString(h, s)
	}
	num := func(n int64) {
		buf = binary.AppendVarint(buf[:0], n)
		h.Write(buf)
	}
	flag := func(b bool) {
		if b {
			num(1)
		} else {
			num(0)
		}
	}

	str(t.Name)
	num(int64(t.Version))
	str(t.Subject)
	str(t.Text)
	str(t.HTML)
	str(t.Category)
	num(int64(len(t.Variables)))
	for _, name := range slices.Sorted(maps.Keys(t.Variables)) {
		v := t.Variables[name]
		str(name)
		str(string(v.Type))
		flag(v.Required)
		flag(v.Multiline)
		num(int64(v.MaxLength))
		str(string(v.Class))
	}

	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}
