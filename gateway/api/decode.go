package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"
)

var fieldNameRE = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)

// readBody reads the request body up to limit and checks its media type.
// It writes the problem itself and returns nil when the body is unusable.
func readBody(w http.ResponseWriter, r *http.Request, limit int64) []byte {
	if ct := r.Header.Get("Content-Type"); ct != "" {
		mt, _, err := mime.ParseMediaType(ct)
		if err != nil || mt != "application/json" {
			writeProblem(w, &Problem{Type: typeUnsupported, Title: "Unsupported media type",
				Status: http.StatusUnsupportedMediaType, Detail: "send the body as " +
					"application/json"})
			return nil
		}
	}
	if r.ContentLength > limit {
		// Refuse before reading, and before "100 Continue" invites the body.
		writeProblem(w, &Problem{Type: typeTooLarge, Title: "Request too large",
			Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("the body may be at most %d bytes", limit)})
		return nil
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeProblem(w, &Problem{Type: typeTooLarge, Title: "Request too large",
				Status: http.StatusRequestEntityTooLarge,
				Detail: fmt.Sprintf("the body may be at most %d bytes", limit)})
			return nil
		}
		writeProblem(w, malformed("the body could not be read"))
		return nil
	}
	if !utf8.Valid(body) {
		writeProblem(w, malformed("the body is not valid UTF-8"))
		return nil
	}
	return body
}

// decodeStrict decodes one JSON object into v, refusing unknown fields and
// trailing data. Its problems describe the position or field, never the
// value found there.
func decodeStrict(body []byte, v any) *Problem {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return decodeProblem(err)
	}
	if dec.More() {
		return malformed("the body must hold exactly one JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return malformed("the body must hold exactly one JSON object")
	}
	return nil
}

func decodeProblem(err error) *Problem {
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return malformed(fmt.Sprintf("the body is not valid JSON (at byte %d)", syntax.Offset))
	case errors.As(err, &typeErr):
		ptr := "/" + strings.ReplaceAll(typeErr.Field, ".", "/")
		if typeErr.Field == "" {
			return malformed("the body must be a JSON object")
		}
		return validationProblem("a field has the wrong type",
			FieldProblem{Pointer: ptr, Detail: "must be " + jsonKind(typeErr.Type.Kind().String())})
	case errors.Is(err, io.EOF):
		return malformed("the body is empty")
	case errors.Is(err, io.ErrUnexpectedEOF):
		return malformed("the body ends in the middle of a JSON value")
	}
	msg := err.Error()
	if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		if fieldNameRE.MatchString(name) {
			return validationProblem("the body has a field this endpoint does not take",
				FieldProblem{Pointer: "/" + name, Detail: "is not a known field"})
		}
		return validationProblem("the body has a field this endpoint does not take")
	}
	return malformed("the body could not be decoded")
}

func jsonKind(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "map", "struct":
		return "an object"
	case "slice", "array":
		return "an array"
	case "bool":
		return "true or false"
	case "int", "int64", "float64":
		return "a number"
	}
	return "of another type"
}
