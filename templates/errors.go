package templates

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Errors returned by this package wrap one of these or are a
// *ValidationError; none of them carries template data.
var (
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = errors.New("invalid")

	// ErrRender means a part failed to execute.
	ErrRender = errors.New("template execution failed")

	// ErrOutputTooLarge means a rendered part exceeded its size limit.
	ErrOutputTooLarge = errors.New("rendered output too large")

	// ErrSubjectLineBreak means the rendered subject held a line break.
	ErrSubjectLineBreak = errors.New("rendered subject contains a line break")

	// ErrSubjectEmpty means the rendered subject was blank.
	ErrSubjectEmpty = errors.New("rendered subject is empty")
)

// Problem describes one invalid field without echoing its value. Field is a
// JSON pointer such as "/data/order_number" or "/subject". Rule names the
// policy rule that was broken, when there is one (such as "medication" or
// "sensitive-in-part"); Line and Column give a position in the source of
// the part named by Field, 1-based, with the column counted in characters.
type Problem struct {
	Field  string `json:"field"`
	Detail string `json:"detail"`
	Rule   string `json:"rule,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// ValidationError lists every problem found in a template or in message
// data. Its message names fields and what is wrong with them, never values.
type ValidationError struct {
	Problems []Problem `json:"problems"`
}

// Error lists the fields and details.
func (e *ValidationError) Error() string {
	var b strings.Builder
	b.WriteString("validation failed")
	for i, p := range e.Problems {
		if i == 0 {
			b.WriteString(": ")
		} else {
			b.WriteString("; ")
		}
		b.WriteString(p.Field)
		b.WriteString(": ")
		b.WriteString(p.Detail)
	}
	return b.String()
}

// Is reports whether target is ErrInvalid.
func (e *ValidationError) Is(target error) bool {
	return target == ErrInvalid
}

// RenderError reports which part failed to render and where in its source.
// It wraps ErrRender, ErrOutputTooLarge, ErrSubjectLineBreak or
// ErrSubjectEmpty and never the underlying execution error, whose text can
// quote data.
type RenderError struct {
	Part   string // "subject", "text" or "html"
	Line   int    // line in the part's source, 0 when unknown
	Column int    // column in the part's source, 0 when unknown
	Err    error
}

// Error names the part and the source position.
func (e *RenderError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("render %s at %d:%d: %v", e.Part, e.Line, e.Column, e.Err)
	}
	return fmt.Sprintf("render %s: %v", e.Part, e.Err)
}

// Unwrap returns the sentinel error.
func (e *RenderError) Unwrap() error {
	return e.Err
}
