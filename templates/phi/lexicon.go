package phi

import (
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
)

// lexiconFiles holds the term lists. Each file of terms is one rule; see
// the package documentation for the format.
//
//go:embed lexicon/*.txt
var lexiconFiles embed.FS

// Rules reported in [Finding.Rule].
const (
	RuleCondition  = "condition"
	RuleMedication = "medication"
	RuleDrugClass  = "drug-class"
	RuleProcedure  = "procedure"
	RuleLabTest    = "lab-test"
	RuleSpecialty  = "specialty"
	RuleDevice     = "device"

	RuleICD10   = "icd10"
	RuleNDC     = "ndc"
	RuleSSN     = "ssn"
	RuleMRN     = "medical-record-number"
	RuleMember  = "member-id"
	RuleDOB     = "date-of-birth"
	RuleService = "date-of-service"
)

// Categories reported in [Finding.Category].
const (
	// CategoryHealth is health information: a condition, a treatment, a
	// provider that implies one.
	CategoryHealth = "health"

	// CategoryIdentifier is an identifier from the HIPAA Safe Harbor list:
	// a record, member or plan number, an SSN, a date of birth or service,
	// or a code that names a diagnosis or a drug.
	CategoryIdentifier = "identifier"
)

// termFiles maps a lexicon file to the rule of its terms.
var termFiles = map[string]string{
	"conditions.txt":  RuleCondition,
	"medications.txt": RuleMedication,
	"drugclasses.txt": RuleDrugClass,
	"procedures.txt":  RuleProcedure,
	"labtests.txt":    RuleLabTest,
	"specialties.txt": RuleSpecialty,
	"devices.txt":     RuleDevice,
}

// Files with other meanings.
const (
	allowFile = "allow.txt"  // benign phrases that cover a term
	labelFile = "labels.txt" // rule<TAB>label lines
)

// reasons says what each rule found, without quoting it.
var reasons = map[string]string{
	RuleCondition:  "names a health condition",
	RuleMedication: "names a medication",
	RuleDrugClass:  "names a kind of medication or treatment",
	RuleProcedure:  "names a medical procedure or visit",
	RuleLabTest:    "names a lab test or result",
	RuleSpecialty:  "names a provider or specialty that implies a condition",
	RuleDevice:     "names a device or supply that implies a condition",
	RuleICD10:      "has the shape of an ICD-10 diagnosis code",
	RuleNDC:        "has the shape of a National Drug Code",
	RuleSSN:        "has the shape of a Social Security number",
	RuleMRN:        "gives a medical record or patient number",
	RuleMember:     "gives an insurance member, plan, policy or group number",
	RuleDOB:        "gives a date of birth",
	RuleService:    "gives a date of service",
}

// kind says what a trie entry does when it matches.
type kind uint8

const (
	kindTerm      kind = iota + 1 // a finding
	kindAllow                     // covers its words; no finding
	kindLabelID                   // a finding when followed by an id
	kindLabelDate                 // a finding when followed by a date
)

// entry is what a path through the trie means.
type entry struct {
	kind kind
	rule string

	// exact holds the words as written when the term has capitals; the
	// text must then match them case for case (a plural "s" allowed on
	// the last word).
	exact []string
}

// node is one word of the trie.
type node struct {
	next map[string]*node
	hit  *entry
}

func (n *node) child(word string) *node {
	if n.next == nil {
		n.next = make(map[string]*node)
	}
	c := n.next[word]
	if c == nil {
		c = &node{}
		n.next[word] = c
	}
	return c
}

// add puts words into the trie. An allow entry beats a term, and a term
// without capitals beats one with them.
func (n *node) add(words []string, e *entry) {
	for _, w := range words {
		n = n.child(w)
	}
	if n.hit == nil || rank(e) > rank(n.hit) {
		n.hit = e
	}
}

func rank(e *entry) int {
	switch {
	case e.kind == kindAllow:
		return 3
	case e.exact == nil:
		return 2
	default:
		return 1
	}
}

// buildTrie reads every lexicon file in fsys (under "lexicon") and returns
// the root of the trie and the number of terms read.
func buildTrie(fsys fs.FS) (*node, int, error) {
	root := &node{}
	terms := 0

	entries, err := fs.ReadDir(fsys, "lexicon")
	if err != nil {
		return nil, 0, fmt.Errorf("read lexicon: %w", err)
	}
	for _, de := range entries {
		name := de.Name()
		b, err := fs.ReadFile(fsys, path.Join("lexicon", name))
		if err != nil {
			return nil, 0, fmt.Errorf("read lexicon %s: %w", name, err)
		}

		n, err := addFile(root, name, string(b))
		if err != nil {
			return nil, 0, fmt.Errorf("lexicon %s: %w", name, err)
		}
		terms += n
	}
	return root, terms, nil
}

// addFile adds the lines of one lexicon file and returns how many terms
// it held.
func addFile(root *node, name, content string) (int, error) {
	rule, isTerms := termFiles[name]
	if !isTerms && name != allowFile && name != labelFile {
		return 0, fmt.Errorf("%w: unknown file", ErrLexicon)
	}

	terms := 0
	for i, line := range strings.Split(content, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}

		e := &entry{kind: kindTerm, rule: rule}
		term := line
		switch name {
		case allowFile:
			e.kind = kindAllow
		case labelFile:
			r, label, ok := strings.Cut(line, "\t")
			if !ok || reasons[r] == "" {
				return 0, fmt.Errorf("%w: line %d: want rule<TAB>label", ErrLexicon, i+1)
			}
			e.rule, term = r, label
			e.kind = kindLabelID
			if r == RuleDOB || r == RuleService {
				e.kind = kindLabelDate
			}
		}
		if err := addTerm(root, term, e); err != nil {
			return 0, fmt.Errorf("line %d: %w", i+1, err)
		}
		terms++
	}
	return terms, nil
}

// addTerm adds a term with its generated variants.
func addTerm(root *node, term string, e *entry) error {
	variants := []string{term}
	if strings.Contains(term, "'s") {
		variants = append(variants, strings.ReplaceAll(term, "'s", "s"))
	}
	if strings.Contains(term, "-") {
		variants = append(variants, strings.ReplaceAll(term, "-", ""))
	}

	for _, v := range variants {
		words := termWords(v)
		if len(words) == 0 {
			return fmt.Errorf("%w: a term has no words", ErrLexicon)
		}

		ve := e
		if v != strings.ToLower(v) {
			cp := *e
			cp.exact = words
			ve = &cp
		}
		keys := make([]string, len(words))
		for i, w := range words {
			keys[i] = fold(strings.ToLower(w))
		}
		root.add(keys, ve)

		for _, p := range inflections(keys[len(keys)-1], ve.exact != nil) {
			pk := append(keys[:len(keys)-1:len(keys)-1], p)
			root.add(pk, ve)
		}
	}
	return nil
}

// termWords splits a lexicon term as Scan splits text, keeping case.
func termWords(term string) []string {
	var words []string
	for _, t := range tokenize(term) {
		words = append(words, term[t.start:t.end])
	}
	return words
}

// inflections returns the other number of a last word: the plural, and for
// a word that looks plural already, the singular. Short and numeric words
// are left alone, and terms with capitals only get a plural "s".
func inflections(w string, exact bool) []string {
	if len(w) < 3 || !isAlpha(w) {
		return nil
	}
	if exact {
		return []string{w + "s"}
	}

	var out []string
	n := len(w)
	switch {
	case strings.HasSuffix(w, "s"), strings.HasSuffix(w, "x"), strings.HasSuffix(w, "z"),
		strings.HasSuffix(w, "ch"), strings.HasSuffix(w, "sh"):
		out = append(out, w+"es")
	case w[n-1] == 'y' && !strings.ContainsRune("aeiou", rune(w[n-2])):
		out = append(out, w[:n-1]+"ies")
	default:
		out = append(out, w+"s")
	}
	if w[n-1] == 's' && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") &&
		!strings.HasSuffix(w, "is") {
		out = append(out, w[:n-1])
	}
	return out
}

func isAlpha(w string) bool {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return false
		}
	}
	return true
}

// wordFolds maps British spellings that the general rules in fold miss.
var wordFolds = map[string]string{
	"tumour":          "tumor",
	"tumours":         "tumors",
	"behaviour":       "behavior",
	"behavioural":     "behavioral",
	"colour":          "color",
	"labour":          "labor",
	"centre":          "center",
	"centres":         "centers",
	"counselling":     "counseling",
	"counsellor":      "counselor",
	"counsellors":     "counselors",
	"programme":       "program",
	"hospitalisation": "hospitalization",
	"hospitalised":    "hospitalized",
	"immunisation":    "immunization",
	"immunisations":   "immunizations",
	"immunised":       "immunized",
	"nebuliser":       "nebulizer",
	"nebulisers":      "nebulizers",
	"paralysed":       "paralyzed",
	"catheterisation": "catheterization",
	"anaesthetised":   "anesthetized",
	"sulphasalazine":  "sulfasalazine",
	"sulphate":        "sulfate",
	"ageing":          "aging",
	"fibre":           "fiber",
}

// fold maps a lower-cased word to its American spelling: "ae" becomes "e"
// (anaemia, haemophilia, paediatric), a leading "oe" becomes "e" (oedema,
// oesophagus, oestrogen), "oea" becomes "ea" (diarrhoea, apnoea), and the
// words in wordFolds are replaced. It allocates only when it changes w.
func fold(w string) string {
	if f, ok := wordFolds[w]; ok {
		return f
	}
	if strings.Contains(w, "ae") {
		w = strings.ReplaceAll(w, "ae", "e")
	}
	if strings.HasPrefix(w, "oe") {
		w = w[1:]
	}
	if strings.Contains(w, "oea") {
		w = strings.ReplaceAll(w, "oea", "ea")
	}
	if strings.HasPrefix(w, "coel") || strings.HasPrefix(w, "foet") {
		w = w[:1] + w[2:]
	}
	return w
}
