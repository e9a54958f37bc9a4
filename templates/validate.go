package templates

import (
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"strings"
	texttemplate "text/template"
	"text/template/parse"
	"unicode/utf8"

	"github.com/sealpost/sealpost/templates/phi"
)

// Part names. Each is the name of the parsed template and, behind a slash,
// the JSON pointer of the field in problems.
const (
	partSubject = "subject"
	partText    = "text"
	partHTML    = "html"
)

// allowedFuncs is the documented set of functions a template may call. The
// remaining text/template builtins either format or index values, which a
// template over single values has no use for, or call arbitrary functions.
var allowedFuncs = map[string]bool{
	"and": true,
	"or":  true,
	"not": true,
	"eq":  true,
	"ne":  true,
}

// Validate checks the template as it is saved. The error is a
// *ValidationError listing every problem found:
//
//   - the name is valid (see [ValidateName]) and the version not negative;
//   - each variable has a valid name ([a-z][a-z0-9_]{0,63}) and type, and
//     multiline and max_length only on string variables;
//   - subject and text are present and every part is valid UTF-8 without
//     NUL or control characters, within MaxSubjectSource or MaxBodySource;
//     the subject source holds no line break and uses no multiline variable;
//   - every part parses, uses only declared variables and the functions
//     and, or, not, eq and ne, and no range, template, define or block;
//   - the HTML part can be escaped by html/template;
//   - each variable's class is safe, identifier or sensitive, and a
//     variable whose name suggests health information is sensitive;
//   - the subject uses only safe variables and no part uses a sensitive
//     one;
//   - the static text of every part holds no finding of the PHI linter
//     (problems carry the rule, line and column);
//   - the category is transactional or marketing, and a transactional
//     template does not read like marketing.
//
// A variable that is declared but unused is fine.
func (t *Template) Validate() error {
	_, err := t.compile()
	return err
}

// compile validates t and builds its executable form.
func (t *Template) compile() (*Compiled, error) {
	var ps problems

	checkName(&ps, t.Name)
	if t.Version < 0 {
		ps.add("/version", "must not be negative")
	}
	checkVariables(&ps, t.Variables)

	checkCategory(&ps, t.Category)

	var static []staticText
	if checkSource(&ps, partSubject, t.Subject, MaxSubjectSource, true) {
		static = append(static, checkTree(&ps, partSubject, t.Subject, t.Variables))
	}
	if checkSource(&ps, partText, t.Text, MaxBodySource, true) {
		static = append(static, checkTree(&ps, partText, t.Text, t.Variables))
	}
	if t.HTML != "" && checkSource(&ps, partHTML, t.HTML, MaxBodySource, false) {
		static = append(static, checkTree(&ps, partHTML, t.HTML, t.Variables))
	}
	lintStatic(&ps, static, t.Category)
	if !ps.empty() {
		return nil, ps.err()
	}

	c, p := build(t)
	if p != nil {
		ps.add(p.Field, p.Detail)
		return nil, ps.err()
	}
	return c, nil
}

func checkVariables(ps *problems, vars map[string]Variable) {
	if len(vars) > MaxVariables {
		ps.addf("/variables", "declares more than %d variables", MaxVariables)
	}
	for name, v := range vars {
		if !isVariableName(name) {
			ps.add("/variables", "has a name that is not valid: "+
				"names are 1 to 64 of a-z, 0-9, '_', starting with a letter")
			continue
		}

		field := "/variables/" + name
		switch v.Type {
		case TypeString, TypeNumber, TypeBoolean, TypeDate, TypeURL:
		default:
			ps.add(field+"/type", "must be one of string, number, boolean, date, url")
		}
		if v.Multiline && v.Type != TypeString {
			ps.add(field+"/multiline", "is only allowed on string variables")
		}
		if v.MaxLength != 0 && v.Type != TypeString {
			ps.add(field+"/max_length", "is only allowed on string variables")
		}
		if v.MaxLength < 0 || v.MaxLength > MaxMaxLength {
			ps.addf(field+"/max_length", "must be between 0 and %d", MaxMaxLength)
		}
		checkClass(ps, name, v)
	}
}

// checkClass checks the class of one variable: it must be known, and a
// variable whose name suggests health information must be sensitive.
func checkClass(ps *problems, name string, v Variable) {
	field := "/variables/" + name + "/class"

	switch v.class() {
	case ClassSafe, ClassIdentifier, ClassSensitive:
	default:
		ps.addProblem(Problem{Field: field, Rule: RuleUnknownClass,
			Detail: "must be one of safe, identifier, sensitive"})
		return
	}
	if rule, ok := phi.NameImpliesPHI(name); ok && v.class() != ClassSensitive {
		ps.addProblem(Problem{Field: field, Rule: RulePHIVariableName,
			Detail: "must be sensitive: the name suggests health information (" +
				rule + ")"})
	}
}

func checkCategory(ps *problems, category string) {
	switch category {
	case "", CategoryTransactional, CategoryMarketing:
	default:
		ps.addProblem(Problem{Field: "/category", Rule: RuleUnknownCategory,
			Detail: "must be transactional or marketing"})
	}
}

// checkSource checks the raw source of one part and reports whether it is
// fit to parse. The subject may hold no line break at all; the bodies may
// hold LF and CRLF but no bare CR.
func checkSource(ps *problems, part, src string, limit int, required bool) bool {
	field := "/" + part

	if strings.TrimSpace(src) == "" {
		if required {
			ps.add(field, "is required")
		}
		return false
	}
	if len(src) > limit {
		ps.addf(field, "is longer than %d octets", limit)
		return false
	}
	if !utf8.ValidString(src) {
		ps.add(field, "is not valid UTF-8")
		return false
	}

	singleLine := part == partSubject
	if d := controlProblem(src, singleLine); d != "" {
		ps.add(field, d)
		return false
	}
	if singleLine && strings.ContainsRune(src, '\t') {
		ps.add(field, "contains a tab, which a subject header cannot carry")
		return false
	}
	return true
}

// checkTree parses one part and checks what it uses. It returns the static
// text of the part for linting; when the part does not parse, the whole
// source is linted as text.
func checkTree(ps *problems, part, src string, vars map[string]Variable) staticText {
	field := "/" + part
	whole := staticText{part: part, src: src, spans: []span{{0, len(src)}}}

	tree := parse.New(part)
	tree.Mode = parse.SkipFuncCheck
	set := make(map[string]*parse.Tree)
	if _, err := tree.Parse(src, "", "", set); err != nil {
		ps.add(field, "does not parse: "+strings.TrimPrefix(err.Error(), "template: "))
		return whole
	}
	if len(set) > 1 {
		ps.add(field, "may not use define or block")
	}

	w := walker{ps: ps, field: field, part: part, src: src, vars: vars,
		seen: map[string]bool{}}
	w.walk(tree.Root, true)
	return staticText{part: part, src: src, spans: w.texts}
}

// walker visits a parse tree and reports undeclared variables and
// constructs outside the allowed language.
type walker struct {
	ps    *problems
	field string
	part  string
	src   string
	vars  map[string]Variable
	seen  map[string]bool
	texts []span // the text nodes, in source order
}

// walk visits n. atData reports whether dot is the data map there: inside a
// with block dot is the tested value instead.
func (w *walker) walk(n parse.Node, atData bool) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			w.walk(c, atData)
		}
	case *parse.TextNode:
		w.text(n)
	case *parse.CommentNode:
	case *parse.ActionNode:
		w.pipe(n.Pipe, atData)
	case *parse.IfNode:
		w.pipe(n.Pipe, atData)
		w.walk(n.List, atData)
		w.walk(n.ElseList, atData)
	case *parse.WithNode:
		w.pipe(n.Pipe, atData)
		w.walk(n.List, false)
		w.walk(n.ElseList, atData)
	case *parse.RangeNode:
		w.once("range", "may not use range: every variable holds a single value")
		w.pipe(n.Pipe, atData)
		w.walk(n.List, false)
		w.walk(n.ElseList, atData)
	case *parse.TemplateNode:
		w.once("template", "may not use template or block")
	case *parse.BreakNode, *parse.ContinueNode:
		// Only valid inside range, which is reported already.
	default:
		w.once("construct", "uses an unsupported construct")
	}
}

func (w *walker) pipe(p *parse.PipeNode, atData bool) {
	if p == nil {
		return
	}
	for _, cmd := range p.Cmds {
		for _, arg := range cmd.Args {
			w.arg(arg, atData)
		}
	}
}

func (w *walker) arg(n parse.Node, atData bool) {
	switch n := n.(type) {
	case *parse.FieldNode:
		if !atData {
			w.once("with-field", "refers to a field inside with; "+
				"use {{.}} for the tested value or {{$.name}} for a variable")
			return
		}
		w.use(n.Ident)
	case *parse.VariableNode:
		switch {
		case n.Ident[0] == "$" && len(n.Ident) == 1:
			w.wholeData()
		case n.Ident[0] == "$":
			w.use(n.Ident[1:])
		case len(n.Ident) > 1:
			w.once("var-field", "refers to a field of a template variable")
		}
	case *parse.DotNode:
		if atData {
			w.wholeData()
		}
	case *parse.IdentifierNode:
		if !allowedFuncs[n.Ident] {
			w.once("func:"+n.Ident, "calls function "+quote(n.Ident)+
				", which is not allowed (allowed: and, or, not, eq, ne)")
		}
	case *parse.PipeNode:
		w.pipe(n, atData)
	case *parse.ChainNode:
		w.once("chain", "refers to a field of an expression")
		w.arg(n.Node, atData)
	case *parse.StringNode:
		// A quoted constant's escapes ("\x1b", "\r\n") are decoded by
		// the parser, so they bypass the check of the raw source.
		if d := controlProblem(n.Text, w.part == partSubject); d != "" {
			w.once("string-control", "has a quoted constant that "+d)
		} else if w.part == partSubject && strings.ContainsRune(n.Text, '\t') {
			w.once("string-control", "has a quoted constant that contains a tab")
		}
		// A constant is rendered like static text, so it is linted too.
		if f, found := phi.Default().ScanFirst(n.Text); found {
			pos := min(max(int(n.Pos), 0), len(w.src))
			line, col := position(w.src, pos)
			w.ps.addProblem(Problem{Field: w.field, Rule: f.Rule, Line: line, Column: col,
				Detail: fmt.Sprintf(findingDetail, f.Reason, f.Rule, line, col)})
		}
	case *parse.NumberNode, *parse.BoolNode, *parse.NilNode:
	default:
		w.once("construct", "uses an unsupported construct")
	}
}

// use checks a reference to a data variable given as its field path.
func (w *walker) use(path []string) {
	if len(path) != 1 {
		w.once("nested", "refers to a field of a variable; variables hold single values")
		return
	}

	name := path[0]
	v, ok := w.vars[name]
	switch {
	case !ok:
		w.once("undeclared:"+name, "uses undeclared variable "+quote(name))
		return
	case w.part == partSubject && v.Multiline:
		w.once("multiline:"+name, "uses multiline variable "+quote(name))
	}

	switch {
	case v.class() == ClassSensitive:
		w.onceRule("sensitive:"+name, RuleSensitiveInPart, "uses sensitive variable "+
			quote(name)+"; sensitive values are never rendered into mail")
	case w.part == partSubject && v.class() != ClassSafe:
		w.onceRule("class:"+name, RuleClassInSubject, "uses variable "+quote(name)+
			", which is not safe; the subject may use only safe variables")
	}
}

// text records a text node's span in the source. The parser gives the
// offset of the node; the check guards against a parser that reports it
// differently, in which case the node is not linted rather than linted at
// the wrong place.
func (w *walker) text(n *parse.TextNode) {
	start := int(n.Pos)
	end := start + len(n.Text)
	if start >= 0 && end <= len(w.src) && w.src[start:end] == string(n.Text) {
		w.texts = append(w.texts, span{start, end})
	}
}

// wholeData reports a reference to all data at once, which would bypass the
// per-variable checks (a multiline value could reach the subject).
func (w *walker) wholeData() {
	w.once("dot", "refers to all data at once; name a variable, as in {{.first_name}}")
}

// once reports a problem for this part once per key.
func (w *walker) once(key, detail string) {
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.ps.add(w.field, detail)
}

// onceRule is once for a problem that names a rule.
func (w *walker) onceRule(key, rule, detail string) {
	if w.seen[key] {
		return
	}
	w.seen[key] = true
	w.ps.addProblem(Problem{Field: w.field, Rule: rule, Detail: detail})
}

// quote quotes an identifier taken from template source, bounded in length
// and with control characters, quotes and backslashes replaced.
func quote(s string) string {
	if len(s) > MaxNameLength {
		s = strings.ToValidUTF8(s[:MaxNameLength], "") + "..."
	}

	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		if r < 0x20 || r == 0x7f || r == '"' || r == '\\' {
			b.WriteByte('?')
			continue
		}
		b.WriteRune(r)
	}
	b.WriteByte('"')
	return b.String()
}

// build parses the validated parts with the template packages and forces
// html/template to escape the HTML part now, so escaping problems are found
// on save and concurrent renders never contend for the escaper.
func build(t *Template) (*Compiled, *Problem) {
	c := &Compiled{
		name:    t.Name,
		version: t.Version,
		vars:    make(map[string]Variable, len(t.Variables)),
	}
	for k, v := range t.Variables {
		c.vars[k] = v
	}

	var err error
	c.subject, err = parseText(partSubject, t.Subject)
	if err != nil {
		return nil, &Problem{Field: "/" + partSubject, Detail: "does not parse"}
	}
	c.text, err = parseText(partText, t.Text)
	if err != nil {
		return nil, &Problem{Field: "/" + partText, Detail: "does not parse"}
	}
	if t.HTML == "" {
		return c, nil
	}

	c.html, err = htmltemplate.New(partHTML).Option("missingkey=error").Parse(t.HTML)
	if err != nil {
		return nil, &Problem{Field: "/" + partHTML, Detail: "does not parse"}
	}
	err = c.html.Execute(io.Discard, c.renderData(nil))
	var escErr *htmltemplate.Error
	if errors.As(err, &escErr) {
		return nil, &Problem{
			Field:  "/" + partHTML,
			Detail: "cannot be escaped safely: " + escErr.Description,
		}
	}
	return c, nil
}

func parseText(part, src string) (*texttemplate.Template, error) {
	return texttemplate.New(part).Option("missingkey=error").Parse(src)
}
