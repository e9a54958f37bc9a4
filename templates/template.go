package templates

import (
	"fmt"
	"log/slog"
	"sort"
)

// VarType is the declared type of a template variable.
type VarType string

// Variable types. Every value arrives as JSON; see [Template.ValidateData]
// for what each type accepts.
const (
	TypeString  VarType = "string"
	TypeNumber  VarType = "number"
	TypeBoolean VarType = "boolean"
	TypeDate    VarType = "date"
	TypeURL     VarType = "url"
)

// VarClass says how much a variable's value may reveal and so where it may
// go.
type VarClass string

// Variable classes. The empty class is ClassSafe.
const (
	// ClassSafe values carry nothing about a person's health: an order
	// number, a shop name, a tracking link. Only safe variables may be used
	// in the subject.
	ClassSafe VarClass = "safe"

	// ClassIdentifier values identify a person without health information,
	// such as a first name. They may be used in the text and HTML bodies.
	ClassIdentifier VarClass = "identifier"

	// ClassSensitive values may be health information. They are never
	// rendered into mail (they belong in the encrypted portal) and are not
	// linted; a template may declare them but not use them in any part.
	ClassSensitive VarClass = "sensitive"
)

// Template categories. Marketing mail needs the recipient's consent.
const (
	CategoryTransactional = "transactional"
	CategoryMarketing     = "marketing"
)

// Limits on templates and data. Sources are measured in octets, variable
// values in runes (Unicode code points).
const (
	// MaxNameLength bounds template and variable names.
	MaxNameLength = 64

	// MaxVariables bounds the variables one template may declare.
	MaxVariables = 100

	// MaxSubjectSource bounds the subject template source.
	MaxSubjectSource = 1000

	// MaxBodySource bounds the text and the HTML template source, each.
	MaxBodySource = 256 << 10

	// MaxSubjectOctets bounds the rendered subject: RFC 5322 section 2.1.1
	// limits a header line to 998 octets. The MIME writer encodes and folds
	// the subject; this keeps its decoded form within one line's worth.
	MaxSubjectOctets = 998

	// MaxRenderedPart bounds the rendered text and HTML parts, each.
	MaxRenderedPart = 1 << 20

	// DefaultMaxLength is the length limit of a single-line string variable
	// that declares no max_length.
	DefaultMaxLength = 1000

	// DefaultMultilineMaxLength is the length limit of a multiline string
	// variable that declares no max_length.
	DefaultMultilineMaxLength = 10000

	// MaxMaxLength is the largest max_length a variable may declare.
	MaxMaxLength = 100000

	// MaxURLLength bounds a url value, in octets.
	MaxURLLength = 2048

	// MaxNumberLength bounds the JSON text of a number value, in octets.
	MaxNumberLength = 64

	// MaxDateLength bounds the text of a date value, in octets.
	MaxDateLength = 64

	// MaxProblems bounds the problems one *ValidationError reports.
	MaxProblems = 50
)

// Variable declares one template variable.
type Variable struct {
	Type     VarType `json:"type"`
	Required bool    `json:"required,omitempty"`

	// Multiline allows line breaks (LF or CRLF) in a string variable. A
	// multiline variable may not be used in the subject.
	Multiline bool `json:"multiline,omitempty"`

	// MaxLength limits a string variable, in runes. Zero means
	// DefaultMaxLength, or DefaultMultilineMaxLength when Multiline is set.
	MaxLength int `json:"max_length,omitempty"`

	// Class is safe (the default when empty), identifier or sensitive.
	Class VarClass `json:"class,omitempty"`
}

// class returns the effective class of v.
func (v Variable) class() VarClass {
	if v.Class == "" {
		return ClassSafe
	}
	return v.Class
}

// maxLength returns the effective length limit of a string variable.
func (v Variable) maxLength() int {
	switch {
	case v.MaxLength > 0:
		return v.MaxLength
	case v.Multiline:
		return DefaultMultilineMaxLength
	default:
		return DefaultMaxLength
	}
}

// Template is a named, versioned subject, text body and optional HTML body
// with declared variables. It is stored as the JSON of this type.
type Template struct {
	Name      string              `json:"name"`
	Version   int                 `json:"version"`
	Subject   string              `json:"subject"`
	Text      string              `json:"text"`
	HTML      string              `json:"html,omitempty"`
	Variables map[string]Variable `json:"variables"`

	// Category is transactional (the default when empty) or marketing. A
	// transactional template may not read like marketing.
	Category string `json:"category,omitempty"`
}

// LogValue logs a template by name and version, never its content.
func (t *Template) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", t.Name),
		slog.Int("version", t.Version),
	)
}

// ValidateName reports whether name is a valid template name: a lowercase
// letter or digit followed by up to 63 lowercase letters, digits, '_', '.'
// or '-'. The error is a *ValidationError for the field "/name".
func ValidateName(name string) error {
	var ps problems
	checkName(&ps, name)
	return ps.err()
}

func checkName(ps *problems, name string) {
	const detail = "must be 1 to 64 of a-z, 0-9, '_', '.', '-', " +
		"starting with a letter or digit"

	if !isTemplateName(name) {
		ps.add("/name", detail)
	}
}

func isTemplateName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9':
		case i > 0 && (c == '_' || c == '.' || c == '-'):
		default:
			return false
		}
	}
	return true
}

// isVariableName reports whether name matches [a-z][a-z0-9_]{0,63}.
func isVariableName(name string) bool {
	if len(name) == 0 || len(name) > MaxNameLength {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z':
		case i > 0 && (c >= '0' && c <= '9' || c == '_'):
		default:
			return false
		}
	}
	return true
}

// problems collects Problems up to MaxProblems.
type problems struct {
	list      []Problem
	truncated bool
}

func (ps *problems) add(field, detail string) {
	if len(ps.list) >= MaxProblems {
		ps.truncated = true
		return
	}
	ps.list = append(ps.list, Problem{Field: field, Detail: detail})
}

// addProblem adds p, which may carry a rule and a source position.
func (ps *problems) addProblem(p Problem) {
	if len(ps.list) >= MaxProblems {
		ps.truncated = true
		return
	}
	ps.list = append(ps.list, p)
}

func (ps *problems) addf(field, format string, args ...any) {
	ps.add(field, fmt.Sprintf(format, args...))
}

func (ps *problems) empty() bool {
	return len(ps.list) == 0
}

// err returns nil or a *ValidationError with the problems sorted by field.
func (ps *problems) err() error {
	if ps.empty() {
		return nil
	}
	list := ps.list
	sort.SliceStable(list, func(i, j int) bool { return list[i].Field < list[j].Field })
	if ps.truncated {
		list = append(list, Problem{
			Field:  "",
			Detail: fmt.Sprintf("more problems not shown (limit %d)", MaxProblems),
		})
	}
	return &ValidationError{Problems: list}
}
