package templates

import (
	"encoding/json"
	"math"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/sealpost/sealpost/templates/phi"
)

// ValidateData checks message data against the declared variables. data
// comes from encoding/json decoding with UseNumber, so a number is a
// json.Number (float64 and Go integers are accepted too). The error is a
// *ValidationError with one Problem per field, naming the field and never
// its value:
//
//   - a key that is not a declared variable;
//   - a required variable that is missing or null (an optional one that is
//     null counts as missing);
//   - a value of the wrong type: string, url and date need a JSON string,
//     number a finite number, boolean true or false; objects and arrays are
//     never accepted;
//   - a string with invalid UTF-8, NUL or another control character other
//     than TAB; a single-line string (and every url and date) with a line
//     break; a multiline string with a bare CR;
//   - a string longer than its max_length in characters;
//   - a date that is neither YYYY-MM-DD nor RFC 3339;
//   - a url that is not absolute https with a host (http is accepted only
//     for localhost and loopback addresses), has user information, holds
//     spaces or backslashes, or is longer than MaxURLLength;
//   - a string or url value of a variable that is not sensitive in which
//     the PHI linter finds something; the detail names the rule. Values of
//     sensitive variables are checked for type and length only, and are
//     never rendered.
//
// When every field is valid the template is rendered once with the data, so
// accepted data always renders; a failure is reported against the part. If
// the template itself is invalid the error is the one from Validate.
func (t *Template) ValidateData(data map[string]any) error {
	c, err := t.cached()
	if err != nil {
		return err
	}
	return c.ValidateData(data)
}

// ValidateData is [Template.ValidateData] on the compiled template.
func (c *Compiled) ValidateData(data map[string]any) error {
	var ps problems

	c.checkData(&ps, data)
	if !ps.empty() {
		return ps.err()
	}

	if _, err := c.render(data); err != nil {
		field := "/template"
		if re, ok := err.(*RenderError); ok {
			field = "/" + re.Part
		}
		ps.add(field, "cannot be rendered with this data: "+err.Error())
		return ps.err()
	}
	return nil
}

func (c *Compiled) checkData(ps *problems, data map[string]any) {
	badKey := false
	for k := range data {
		if _, ok := c.vars[k]; ok {
			continue
		}
		if !isVariableName(k) {
			if !badKey {
				ps.add("/data", "has a key that is not a valid variable name")
				badKey = true
			}
			continue
		}
		ps.add("/data/"+k, "is not a declared variable")
	}

	for name, decl := range c.vars {
		field := "/data/" + name
		v, ok := data[name]
		switch {
		case !ok && decl.Required:
			ps.add(field, "is required")
		case ok && v == nil && decl.Required:
			ps.add(field, "is required and may not be null")
		case v == nil:
		default:
			if d := checkValue(decl, v); d != "" {
				ps.add(field, d)
			} else if p, ok := lintValue(decl, v); ok {
				p.Field = field
				ps.addProblem(p)
			}
		}
	}
}

// lintValue lints a valid string or url value of a variable that is not
// sensitive. Sensitive values are not linted: they go to the encrypted
// portal and are never rendered. The problem names the rule, never the
// value.
func lintValue(decl Variable, v any) (Problem, bool) {
	if decl.class() == ClassSensitive || decl.Type != TypeString && decl.Type != TypeURL {
		return Problem{}, false
	}
	s, _ := v.(string)
	f, ok := phi.Default().ScanFirst(s)
	if !ok {
		// Invisible characters, entities and look-alike forms must not hide
		// a term.
		f, ok = phi.Default().ScanFolded(s)
	}
	if !ok {
		return Problem{}, false
	}

	what := "health information"
	if f.Category == phi.CategoryIdentifier {
		what = "a health identifier"
	}
	return Problem{Rule: f.Rule,
		Detail: "looks like " + what + " (rule " + f.Rule + ")"}, true
}

// checkValue returns what is wrong with v, or "".
func checkValue(decl Variable, v any) string {
	switch decl.Type {
	case TypeString:
		s, ok := v.(string)
		if !ok {
			return typeDetail("a string", v)
		}
		return checkString(s, decl.Multiline, decl.maxLength())
	case TypeNumber:
		return checkNumber(v)
	case TypeBoolean:
		if _, ok := v.(bool); !ok {
			return typeDetail("true or false", v)
		}
		return ""
	case TypeDate:
		s, ok := v.(string)
		if !ok {
			return typeDetail("a date string", v)
		}
		return checkDate(s)
	case TypeURL:
		s, ok := v.(string)
		if !ok {
			return typeDetail("a URL string", v)
		}
		return checkURL(s)
	default:
		return "has a declared type that is not valid"
	}
}

func typeDetail(want string, v any) string {
	switch v.(type) {
	case map[string]any, []any:
		return "must be " + want + ", not an object or array"
	default:
		return "must be " + want
	}
}

func checkString(s string, multiline bool, limit int) string {
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if d := controlProblem(s, !multiline); d != "" {
		return d
	}
	if utf8.RuneCountInString(s) > limit {
		return "is longer than " + strconv.Itoa(limit) + " characters"
	}
	return ""
}

// controlProblem returns what is wrong with the control characters in s, or
// "". TAB is always allowed; LF and CRLF only when singleLine is false. NUL,
// DEL, other C0 and all C1 controls are never allowed, nor is a CR that does
// not start a CRLF. A single-line string may not hold the Unicode line and
// paragraph separators either. s must be valid UTF-8.
func controlProblem(s string, singleLine bool) string {
	for i, r := range s {
		switch {
		case r == '\t':
		case r == '\n' || r == '\r' || r == '\u2028' || r == '\u2029':
			if singleLine {
				return "contains a line break"
			}
			if r == '\r' && (i+1 >= len(s) || s[i+1] != '\n') {
				return "contains a carriage return that does not start a CRLF"
			}
		case r == 0:
			return "contains a NUL character"
		case r < 0x20 || r >= 0x7f && r <= 0x9f:
			return "contains a control character"
		}
	}
	return ""
}

func checkNumber(v any) string {
	const detail = "must be a finite number"

	switch n := v.(type) {
	case json.Number:
		if len(n) > MaxNumberLength {
			return "is longer than " + strconv.Itoa(MaxNumberLength) + " octets"
		}
		if !isJSONNumber(string(n)) {
			return detail
		}
		f, err := strconv.ParseFloat(string(n), 64)
		if err != nil || math.IsInf(f, 0) {
			return detail
		}
	case float64:
		if math.IsInf(n, 0) || math.IsNaN(n) {
			return detail
		}
	case int, int64:
	default:
		return typeDetail("a number", v)
	}
	return ""
}

// isJSONNumber reports whether s follows the number grammar of RFC 8259
// section 6.
func isJSONNumber(s string) bool {
	i := 0
	digits := func() int {
		start := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		return i - start
	}

	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

func checkDate(s string) string {
	const detail = "must be a date as YYYY-MM-DD or RFC 3339"

	if len(s) > MaxDateLength {
		return detail
	}
	if _, err := time.Parse(time.DateOnly, s); err == nil {
		return ""
	}
	if _, err := time.Parse(time.RFC3339, s); err == nil {
		return ""
	}
	return detail
}

func checkURL(s string) string {
	const detail = "must be an absolute https URL"

	if len(s) > MaxURLLength {
		return "is longer than " + strconv.Itoa(MaxURLLength) + " octets"
	}
	if !utf8.ValidString(s) {
		return "is not valid UTF-8"
	}
	if d := controlProblem(s, true); d != "" {
		return d
	}
	if strings.ContainsAny(s, " \t\\") {
		return "must not contain spaces or backslashes"
	}

	u, err := url.Parse(s)
	switch {
	case err != nil:
		return detail
	case u.Scheme == "http" && !isLoopbackHost(u.Hostname()):
		return detail + " (http only for localhost)"
	case u.Scheme != "https" && u.Scheme != "http":
		return detail
	case u.Opaque != "" || u.Hostname() == "":
		return "must have a host"
	case u.User != nil:
		return "must not contain user information"
	}
	return ""
}

func isLoopbackHost(host string) bool {
	switch strings.ToLower(host) {
	case "localhost", "127.0.0.1", "::1":
		return true
	}
	return strings.HasSuffix(strings.ToLower(host), ".localhost")
}
