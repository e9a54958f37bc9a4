package phi

import "strings"

// phiNames maps the words of a variable name that imply health information
// to the rule reported. A key with underscores matches those words in a
// row; the name is split at underscores, so "dx" matches "primary_dx" but
// not "dxf_file".
var phiNames = []struct {
	words string
	rule  string
}{
	{"diagnosis", "diagnosis"},
	{"diagnoses", "diagnosis"},
	{"dx", "diagnosis"},
	{"icd", "diagnosis"},
	{"icd10", "diagnosis"},
	{"disease", "condition"},
	{"illness", "condition"},
	{"symptom", "condition"},
	{"symptoms", "condition"},
	{"allergy", "condition"},
	{"allergies", "condition"},
	{"disability", "condition"},
	{"medication", "medication"},
	{"medications", "medication"},
	{"meds", "medication"},
	{"drug", "medication"},
	{"drugs", "medication"},
	{"rx", "prescription"},
	{"prescription", "prescription"},
	{"prescriptions", "prescription"},
	{"dosage", "medication"},
	{"dose", "medication"},
	{"ndc", "medication"},
	{"treatment", "procedure"},
	{"therapy", "procedure"},
	{"surgery", "procedure"},
	{"vaccine", "procedure"},
	{"vaccination", "procedure"},
	{"immunization", "procedure"},
	{"lab", "lab-result"},
	{"labs", "lab-result"},
	{"lab_result", "lab-result"},
	{"test_result", "lab-result"},
	{"test_results", "lab-result"},
	{"result_value", "lab-result"},
	{"a1c", "lab-result"},
	{"glucose", "lab-result"},
	{"blood_type", "lab-result"},
	{"bmi", "lab-result"},
	{"pregnancy", "condition"},
	{"physician", "provider"},
	{"doctor", "provider"},
	{"clinic", "provider"},
	{"clinician", "provider"},
	{"visit_reason", "visit-reason"},
	{"reason_for_visit", "visit-reason"},
	{"appointment_type", "visit-reason"},
	{"chief_complaint", "visit-reason"},
	{"dob", "date-of-birth"},
	{"birth", "date-of-birth"},
	{"birthdate", "date-of-birth"},
	{"birthday", "date-of-birth"},
	{"date_of_service", "date-of-service"},
	{"service_date", "date-of-service"},
	{"dos", "date-of-service"},
	{"discharge", "date-of-service"},
	{"mrn", "medical-record-number"},
	{"medical_record", "medical-record-number"},
	{"chart_number", "medical-record-number"},
	{"patient_id", "medical-record-number"},
	{"patient_number", "medical-record-number"},
	{"ssn", "ssn"},
	{"social_security", "ssn"},
	{"plan_id", "insurance-id"},
	{"plan_number", "insurance-id"},
	{"member_id", "member-id"},
	{"member_number", "member-id"},
	{"subscriber_id", "member-id"},
	{"insurer", "insurance-id"},
	{"insurance_id", "insurance-id"},
	{"insurance_number", "insurance-id"},
	{"insurance_plan", "insurance-id"},
	{"admission_date", "date-of-service"},
	{"health_condition", "condition"},
	{"policy_number", "insurance-id"},
	{"policy_id", "insurance-id"},
	{"group_number", "insurance-id"},
	{"medicaid", "insurance-id"},
	{"medicare", "insurance-id"},
	{"health", "health-information"},
	{"medical", "health-information"},
	{"clinical", "health-information"},
	{"phi", "health-information"},
}

// NameImpliesPHI reports whether a variable name suggests its value is
// health information or a health identifier, and which rule says so
// (such as "diagnosis", "medication", "date-of-birth", "member-id"). The
// name is matched by its underscore-separated words, case-insensitively.
func NameImpliesPHI(variableName string) (rule string, ok bool) {
	name := "_" + strings.ToLower(variableName) + "_"
	for _, n := range phiNames {
		if strings.Contains(name, "_"+n.words+"_") {
			return n.rule, true
		}
	}
	return "", false
}
