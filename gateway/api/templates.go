package api

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/templates"
)

// templateBody is what PUT /v1/templates/{name} takes.
type templateBody struct {
	Category  string                        `json:"category"`
	Subject   string                        `json:"subject"`
	Text      string                        `json:"text"`
	HTML      string                        `json:"html"`
	Variables map[string]templates.Variable `json:"variables"`
}

type templateView struct {
	Name      string                        `json:"name"`
	Version   int                           `json:"version"`
	Category  string                        `json:"category"`
	Subject   string                        `json:"subject"`
	Text      string                        `json:"text"`
	HTML      string                        `json:"html,omitempty"`
	Variables map[string]templates.Variable `json:"variables"`
	SavedAt   time.Time                     `json:"saved_at"`
}

func viewOf(e *catalog.Entry) templateView {
	t := e.Template
	category := t.Category
	if category == "" {
		category = templates.CategoryTransactional
	}
	return templateView{
		Name:      t.Name,
		Version:   t.Version,
		Category:  category,
		Subject:   t.Subject,
		Text:      t.Text,
		HTML:      t.HTML,
		Variables: t.Variables,
		SavedAt:   e.SavedAt,
	}
}

func problemsOf(err error) ([]FieldProblem, bool) {
	var ve *templates.ValidationError
	if !errors.As(err, &ve) {
		return nil, false
	}
	out := make([]FieldProblem, 0, len(ve.Problems))
	for _, p := range ve.Problems {
		out = append(
			out,
			FieldProblem{Pointer: p.Field, Detail: p.Detail, Rule: p.Rule, Line: p.Line,
				Column: p.Column},
		)
	}
	return out, true
}

func (s *Server) putTemplate(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if reservedTemplate(name) {
		writeProblem(w, &Problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden,
			Detail: "templates named sealpost-… belong to the gateway's own mail"})
		return
	}
	if err := templates.ValidateName(name); err != nil {
		writeProblem(w, validationProblem("the template name in the path is not valid",
			FieldProblem{Pointer: "/name", Detail: "must be 1 to 64 characters: a-z, 0-9, _ . - " +
				"and start with a letter or digit"}))
		return
	}
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in templateBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}

	t := &templates.Template{Name: name, Category: in.Category, Subject: in.Subject, Text: in.Text,
		HTML: in.HTML, Variables: in.Variables}
	e, err := s.catalog.Save(r.Context(), t, principalFrom(r.Context()).KeyID)
	if probs, ok := problemsOf(err); ok {
		writeProblem(w, validationProblem("the template is not valid", probs...))
		return
	}
	if err != nil {
		s.logger.Error("save template failed", "template", name, "err", err)
		writeProblem(w, internalError())
		return
	}
	actor := principalFrom(r.Context()).KeyID
	s.logger.Info("template saved", "template", e.Template, "key_id", actor)
	s.audit(r, audit.Event{Actor: actor, Action: "template.saved", ObjectType: "template",
		ObjectID: name, Details: map[string]string{"version": strconv.Itoa(e.Template.Version)}})
	w.Header().Set("Location", "/v1/templates/"+name)
	writeJSON(w, http.StatusCreated, viewOf(e))
}

func (s *Server) getTemplate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.lookupTemplate(w, r)
	if !ok {
		return
	}
	writeJSON(w, http.StatusOK, viewOf(e))
}

func (s *Server) lookupTemplate(w http.ResponseWriter, r *http.Request) (*catalog.Entry, bool) {
	name := r.PathValue("name")
	if templates.ValidateName(name) != nil {
		writeProblem(w, notFound("no template has that name"))
		return nil, false
	}
	e, err := s.catalog.Get(r.Context(), name, 0)
	if errors.Is(err, catalog.ErrNotFound) {
		writeProblem(w, notFound("no template has that name"))
		return nil, false
	}
	if err != nil {
		s.logger.Error("load template failed", "err", err)
		writeProblem(w, internalError())
		return nil, false
	}
	return e, true
}

type previewBody struct {
	Data map[string]any `json:"data"`
}

type previewView struct {
	Name    string `json:"name"`
	Version int    `json:"version"`
	Subject string `json:"subject"`
	Text    string `json:"text"`
	HTML    string `json:"html"`
}

func (s *Server) previewTemplate(w http.ResponseWriter, r *http.Request) {
	e, ok := s.lookupTemplate(w, r)
	if !ok {
		return
	}
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in previewBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	if err := e.Compiled.ValidateData(in.Data); err != nil {
		probs, _ := problemsOf(err)
		writeProblem(w, validationProblem("the data does not fit the template", probs...))
		return
	}
	out, err := e.Compiled.Render(in.Data)
	if err != nil {
		writeProblem(
			w,
			validationProblem("the template cannot be rendered with this data: "+renderDetail(err)),
		)
		return
	}
	writeJSON(w, http.StatusOK, previewView{Name: e.Template.Name, Version: e.Template.Version,
		Subject: out.Subject, Text: out.Text, HTML: out.HTML})
}

// renderDetail describes a render failure by part and position; the
// templates package guarantees its errors carry no data.
func renderDetail(err error) string {
	var re *templates.RenderError
	if errors.As(err, &re) {
		return re.Error()
	}
	return "rendering failed"
}

type templateSummary struct {
	Name          string    `json:"name"`
	LatestVersion int       `json:"latest_version"`
	UpdatedAt     time.Time `json:"updated_at"`
}

func (s *Server) listTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := s.db.ListTemplates(r.Context())
	if err != nil {
		s.logger.Error("list templates failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	out := make([]templateSummary, 0, len(list))
	for _, t := range list {
		out = append(
			out,
			templateSummary{Name: t.Name, LatestVersion: t.LatestVersion, UpdatedAt: t.UpdatedAt},
		)
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": out})
}
