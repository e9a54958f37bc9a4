package phi

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestScan(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		text string
		rule string // "" means no finding
	}{
		{"medication", "Your Insulin Glargine 100 U/mL", RuleMedication},
		{"brand name", "Ozempic pen", RuleMedication},
		{"plural", "Your kidney stones", RuleCondition},
		{"plural ies", "two biopsies", RuleProcedure},
		{"british spelling", "Anaemia clinic", RuleCondition},
		{"british tumour", "brain tumours", RuleCondition},
		{"hyphen as space", "a fib", RuleCondition},
		{"joined hyphen", "prediabetes", RuleCondition},
		{"possessive", "Crohn’s disease", RuleCondition},
		{"possessive dropped", "crohns disease", RuleCondition},
		{"line break in phrase", "insulin\npump", RuleDevice},
		{"no match inside word", "archive", ""},
		{"no match across sentence", "a heart. Attack of the clones", ""},
		{"aids lower case", "aids digestion", ""},
		{"AIDS capitals", "living with AIDS", RuleCondition},
		{"hearing aids", "new hearing aids", RuleDevice},
		{"lithium battery allowed", "lithium battery", ""},
		{"lithium alone", "lithium 300 mg", RuleMedication},
		{"brush stroke allowed", "brush strokes", ""},
		{"stroke", "after a stroke", RuleCondition},
		{"cold brew", "cold brew", ""},
		{"prescription alone", "your prescription order is ready", ""},
		{"prescription for", "your prescription for", RuleDrugClass},
		{"icd10", "code E11.9", RuleICD10},
		{"icd10 letter", "F32.A", RuleICD10},
		{"icd10 lower case", "e11.9", ""},
		{"version number", "V12.3.4", ""},
		{"ndc 4-4-2", "0002-8215-01", RuleNDC},
		{"ndc 5-3-2", "12345-678-90", RuleNDC},
		{"ndc 5-4-1", "50090-2869-0", RuleNDC},
		{"ssn", "123-45-6789", RuleSSN},
		{"phone", "555-123-4567", ""},
		{"long number", "1-800-555-0199", ""},
		{"mrn", "MRN 00123456", RuleMRN},
		{"mrn label alone", "your MRN", ""},
		{"member id slot", "Member ID: ", RuleMember},
		{"member id slot before action", "Member ID: \x00\x00", RuleMember},
		{"member id no value", "Your member ID is on your card", ""},
		{"dob", "DOB: 03/14/1980", RuleDOB},
		{"dob month", "date of birth March 14, 1980", RuleDOB},
		{"dob day month", "born 14 March 1980", RuleDOB},
		{"birthday greeting", "Happy birthday!", ""},
		{"dos", "DOS: 2026-04-02", RuleService},
		{"dos lower case", "dos 2026-04-02", ""},
		{"date alone", "Delivered on 2026-04-02", ""},
		{"order number", "Your order #A-1001 has shipped", ""},
	}
	l := Default()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			f, ok := l.ScanFirst(tt.text)
			switch {
			case tt.rule == "" && ok:
				t.Errorf("ScanFirst() = %+v, want no finding", f)
			case tt.rule != "" && !ok:
				t.Errorf("ScanFirst() found nothing, want %s", tt.rule)
			case tt.rule != "" && f.Rule != tt.rule:
				t.Errorf("ScanFirst() rule = %s, want %s", f.Rule, tt.rule)
			}
			if ok && strings.Contains(f.Reason, tt.text[f.Start:f.End]) {
				t.Errorf("Reason %q quotes the text", f.Reason)
			}
		})
	}
}

func TestScanOffsets(t *testing.T) {
	t.Parallel()

	text := "Hi Pat, your Metformin 500 mg and glucose test strips shipped. DOB: 1/2/1980"
	fs := Default().Scan(text)
	want := []struct{ rule, text string }{
		{RuleMedication, "Metformin"},
		{RuleDevice, "glucose test strips"},
		{RuleDOB, "DOB: 1/2/1980"},
	}
	if len(fs) != len(want) {
		t.Fatalf("Scan() = %+v, want %d findings", fs, len(want))
	}
	for i, w := range want {
		if fs[i].Rule != w.rule || text[fs[i].Start:fs[i].End] != w.text {
			t.Errorf("finding %d = %s %q, want %s %q", i, fs[i].Rule,
				text[fs[i].Start:fs[i].End], w.rule, w.text)
		}
	}
}

func TestLexiconFiles(t *testing.T) {
	t.Parallel()

	if n := Default().Terms(); n < 2500 {
		t.Errorf("Terms() = %d, want at least 2500", n)
	}
	root := &node{}
	if _, err := addFile(root, "labels.txt", "no-such-rule\tlabel\n"); err == nil {
		t.Error("addFile() accepted a label with an unknown rule")
	}
	if _, err := addFile(root, "other.txt", "x\n"); err == nil {
		t.Error("addFile() accepted an unknown file")
	}
}

func TestNameImpliesPHI(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		rule string
	}{
		{"diagnosis", "diagnosis"},
		{"primary_dx", "diagnosis"},
		{"medication_name", "medication"},
		{"rx_number", "prescription"},
		{"dob", "date-of-birth"},
		{"date_of_birth", "date-of-birth"},
		{"mrn", "medical-record-number"},
		{"plan_id", "insurance-id"},
		{"member_id", "member-id"},
		{"ssn_last4", "ssn"},
		{"icd10_code", "diagnosis"},
		{"ndc", "medication"},
		{"insurance_id", "insurance-id"},
		{"first_name", ""},
		{"order_number", ""},
		{"shop_name", ""},
		{"tracking_url", ""},
		{"shipping_provider", ""},
		{"item_condition", ""},
		{"label_url", ""},
		{"drugstore_name", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			rule, ok := NameImpliesPHI(tt.name)
			if ok != (tt.rule != "") || rule != tt.rule {
				t.Errorf("NameImpliesPHI(%q) = %q, %v; want %q", tt.name, rule, ok, tt.rule)
			}
		})
	}
}

func TestLooksPromotional(t *testing.T) {
	t.Parallel()

	tests := []struct {
		text string
		want bool
	}{
		{"Flash sale: 20% off everything", true},
		{"Save up to $50 this weekend", true},
		{"Use code SPRING10 at checkout", true},
		{"Limited time offer", true},
		{"Buy now while supplies last", true},
		{"$10 off your next order", true},
		{"Your order #A-1001 has shipped", false},
		{"All items are final sale", false},
		{"Discount applied: $5.00", false},
		{"Reset your password", false},
	}
	for _, tt := range tests {
		t.Run(tt.text, func(t *testing.T) {
			t.Parallel()

			if got := LooksPromotional(tt.text); got != tt.want {
				t.Errorf("LooksPromotional(%q) = %v, want %v", tt.text, got, tt.want)
			}
		})
	}
}

func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"Metformin 500 mg", "DOB: 03/14/1980", "MRN:", "E11.9", "0002-8215-01",
		"Crohn’s", "x\u00a0ray", "\xff\xfeinsulin", "born 1 March", "Member ID: \x00",
		"Crohn\xb2", "Ärzte insulin—pump",
	} {
		f.Add(s)
	}
	l := Default()
	f.Fuzz(func(t *testing.T, text string) {
		fs := l.Scan(text)
		prev := 0
		for _, fd := range fs {
			if fd.Start < prev || fd.End <= fd.Start || fd.End > len(text) {
				t.Fatalf("finding %+v out of order or bounds (len %d)", fd, len(text))
			}
			// Invalid UTF-8 has no rune boundaries to keep; parts and
			// values are checked to be valid UTF-8 before they are linted.
			if utf8.ValidString(text) && (!utf8.RuneStart(text[fd.Start]) ||
				fd.End < len(text) && !utf8.RuneStart(text[fd.End])) {
				t.Fatalf("finding %+v splits a rune", fd)
			}
			prev = fd.End
		}
		first, ok := l.ScanFirst(text)
		if ok != (len(fs) > 0) || ok && first != fs[0] {
			t.Fatalf("ScanFirst() = %+v, %v; Scan()[0] differs", first, ok)
		}
		_ = LooksPromotional(text)
	})
}

// BenchmarkScan10KB lints 10 KB of template-like text holding a few
// findings; the bar is under 1 ms per scan.
func BenchmarkScan10KB(b *testing.B) {
	para := "Hi {{.first_name}}, your order {{.order_number}} from Corner Pharmacy " +
		"has shipped and will arrive on Tuesday. Track the parcel in your account. " +
		"Questions? Reply to this email or call us at 555-123-4567. "
	var sb strings.Builder
	for sb.Len() < 10<<10 {
		sb.WriteString(para)
		if sb.Len()%7 == 0 {
			sb.WriteString("Your insulin pump supplies are included. ")
		}
	}
	text := sb.String()[:10<<10]
	l := Default()
	b.SetBytes(int64(len(text)))
	b.ReportAllocs()
	for b.Loop() {
		l.Scan(text)
	}
}
