// Package templates owns the Sealpost template model: a named, versioned
// subject, text body and optional HTML body with declared variables.
//
// It does four things:
//
//   - validates a template when it is saved ([Template.Validate]): every part
//     parses, every variable it uses is declared, only the small set of
//     functions below is called, and sizes stay within the limits named in
//     this package; the static text is linted for health information with
//     package phi, and variable classes are enforced (see below);
//   - validates message data against the declared variables
//     ([Template.ValidateData]), so that a line break can never reach a
//     header, a value never exceeds its declared length, and a value that
//     looks like health information is refused;
//   - renders the subject and text body with text/template and the HTML body
//     with html/template ([Template.Render]);
//   - sanitises rendered HTML with one bluemonday policy ([SanitizeHTML]).
//
// It does not store templates (the store persists the JSON of [Template]),
// does not build MIME and does not send anything. It never logs, and its
// errors name fields, never the values in them.
//
// # Template language
//
// Parts use Go template syntax with the default delimiters. A variable is
// referenced as {{.name}}; inside a with block {{.}} is the tested value and
// {{$.name}} another variable. The data as a whole ({{.}} outside with, or
// {{$}}) cannot be referenced. Allowed
// actions are if, else, with, variable declarations and comments; range,
// template, define and block are rejected because every variable holds a
// single value. The only functions are and, or, not, eq and ne; eq and ne
// compare values of the same kind (a number arrives as its JSON text, so
// compare it with a quoted string). A variable that is declared but not
// provided renders as the empty string (false for a boolean), so it can be
// tested with {{if .name}}.
//
// # Health information
//
// A template cannot carry health information into mail. Each variable has
// a class: safe (the default), identifier (such as a first name) or
// sensitive. Only safe variables may appear in the subject; sensitive ones
// may appear in no part and are never rendered, because their values
// belong in the encrypted portal. A variable whose name suggests health
// information (diagnosis, medication, dob, mrn, member_id and the like; see
// [phi.NameImpliesPHI]) must be declared sensitive.
//
// On save the static text of every part is linted: the text between
// actions in the subject and text body, and in the HTML body the visible
// text and attribute values (href, alt, title and the rest), not tag or
// attribute names, comments, scripts or styles. Every finding is a
// [Problem] naming the rule and the line and column in the part's source,
// never the text. A transactional template (the default category) whose
// text reads like marketing is refused too; [LintFile] runs the same
// checks on a template file.
//
// # HTML policy
//
// The rendered HTML keeps common formatting, tables, a small set of inline
// styles, links to https and mailto URLs (given rel="noreferrer noopener")
// and images with an https source. Scripts, styles, frames, objects, forms,
// SVG, event-handler attributes and javascript:, data: and vbscript: URLs are
// removed. Nothing is added: no tracking pixels, no link rewriting.
package templates
