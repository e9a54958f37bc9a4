package api

import (
	"encoding/json"
	"net/http"
)

// Problem is an RFC 9457 problem document.
type Problem struct {
	Type   string         `json:"type"`
	Title  string         `json:"title"`
	Status int            `json:"status"`
	Detail string         `json:"detail,omitempty"`
	Errors []FieldProblem `json:"errors,omitempty"`
}

// FieldProblem names one invalid field by JSON pointer.
type FieldProblem struct {
	Pointer string `json:"pointer"`
	Detail  string `json:"detail"`
	// Rule, Line and Column locate a template finding in the source of the
	// part Pointer names (1-based; the column counts characters).
	Rule   string `json:"rule,omitempty"`
	Line   int    `json:"line,omitempty"`
	Column int    `json:"column,omitempty"`
}

// Problem types. They are stable identifiers clients can switch on.
const (
	typeValidation   = "urn:sealpost:problem:validation"
	typeMalformed    = "urn:sealpost:problem:malformed-request"
	typeTooLarge     = "urn:sealpost:problem:request-too-large"
	typeUnauthorized = "urn:sealpost:problem:unauthorized"
	typeForbidden    = "urn:sealpost:problem:forbidden"
	typeNotFound     = "urn:sealpost:problem:not-found"
	typeConflict     = "urn:sealpost:problem:conflict"
	typeUnsupported  = "urn:sealpost:problem:unsupported-media-type"
	typeMethod       = "urn:sealpost:problem:method-not-allowed"
	typeInternal     = "urn:sealpost:problem:internal"
	typeUnavailable  = "urn:sealpost:problem:unavailable"
	typeTooMany      = "urn:sealpost:problem:too-many-requests"
)

func writeProblem(w http.ResponseWriter, p *Problem) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(p.Status)
	_ = json.NewEncoder(w).Encode(p)
}

func validationProblem(detail string, errs ...FieldProblem) *Problem {
	return &Problem{
		Type:   typeValidation,
		Title:  "Invalid request",
		Status: http.StatusUnprocessableEntity,
		Detail: detail,
		Errors: errs,
	}
}

func malformed(detail string, errs ...FieldProblem) *Problem {
	return &Problem{Type: typeMalformed, Title: "Malformed request", Status: http.StatusBadRequest,
		Detail: detail, Errors: errs}
}

func notFound(detail string) *Problem {
	return &Problem{
		Type:   typeNotFound,
		Title:  "Not found",
		Status: http.StatusNotFound,
		Detail: detail,
	}
}

func internalError() *Problem {
	return &Problem{
		Type:   typeInternal,
		Title:  "Internal error",
		Status: http.StatusInternalServerError,
		Detail: "the request could not be completed; it is safe to retry",
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}
