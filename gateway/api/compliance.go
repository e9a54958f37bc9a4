package api

import (
	"bytes"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"time"

	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/bounce"
	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/store"
)

var (
	purposeRE = regexp.MustCompile(`^[a-z][a-z0-9_-]{0,63}$`)
	idRE      = regexp.MustCompile(`^[0-9a-f]{32}$`)
)

type consentBody struct {
	Email          string `json:"email"`
	Purpose        string `json:"purpose"`
	Action         string `json:"action"`
	Source         string `json:"source"`
	WordingVersion string `json:"wording_version"`
	Wording        string `json:"wording"`
	IP             string `json:"ip"`
	UserAgent      string `json:"user_agent"`
}

type consentView struct {
	ID             string    `json:"id"`
	Purpose        string    `json:"purpose"`
	Action         string    `json:"action"`
	Source         string    `json:"source"`
	WordingVersion string    `json:"wording_version,omitempty"`
	WordingHash    string    `json:"wording_hash,omitempty"`
	IP             string    `json:"ip,omitempty"`
	UserAgent      string    `json:"user_agent,omitempty"`
	Actor          string    `json:"actor"`
	At             time.Time `json:"at"`
}

// postConsent records a grant or withdrawal with its evidence. The client's
// IP is stored truncated to its /24 (or /48).
func (s *Server) postConsent(w http.ResponseWriter, r *http.Request) {
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in consentBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}
	var probs []FieldProblem
	if _, err := compliance.Normalize(in.Email); err != nil {
		probs = append(probs, FieldProblem{Pointer: "/email", Detail: reasonOf(err)})
	}
	if in.Purpose == "" {
		in.Purpose = compliance.PurposeMarketing
	}
	if !purposeRE.MatchString(in.Purpose) {
		probs = append(probs, FieldProblem{Pointer: "/purpose",
			Detail: "must be marketing or a list name (a-z, 0-9, _ -)"})
	}
	if in.Action != "grant" && in.Action != "withdraw" && in.Action != "request" {
		probs = append(probs, FieldProblem{Pointer: "/action",
			Detail: "must be grant, withdraw, or request (double opt-in: a confirmation mail " +
				"is sent)"})
	}
	switch in.Source {
	case "api", "form", "import", "console":
	case "":
		in.Source = "api"
	default:
		probs = append(probs, FieldProblem{Pointer: "/source",
			Detail: "must be api, form, import or console"})
	}
	if (in.Action == "grant" || in.Action == "request") &&
		(in.WordingVersion == "" || in.Wording == "") {
		probs = append(probs, FieldProblem{Pointer: "/wording",
			Detail: "a grant needs the wording shown and its version, as evidence"})
	}
	for ptr, v := range map[string]string{"/wording_version": in.WordingVersion,
		"/user_agent": in.UserAgent, "/ip": in.IP} {
		if len(v) > 300 || containsControl(v) {
			probs = append(
				probs,
				FieldProblem{Pointer: ptr, Detail: "must be one line of at most 300 characters"},
			)
		}
	}
	if len(probs) > 0 {
		writeProblem(w, validationProblem("the consent was not recorded", probs...))
		return
	}
	e := &store.ConsentEvent{Address: in.Email, Purpose: in.Purpose, Action: in.Action,
		Source: in.Source, WordingVersion: in.WordingVersion, RemoteAddr: clientaddr.Truncate(in.IP),
		UserAgent: in.UserAgent, Actor: principalFrom(r.Context()).KeyID}
	if in.Wording != "" {
		e.WordingHash = compliance.WordingHash(in.Wording)
	}
	if in.Action == "request" {
		s.requestConsent(w, r, e)
		return
	}
	err := s.db.InTx(r.Context(), func(tx *store.Tx) error {
		return s.comply.RecordConsent(r.Context(), tx, e)
	})
	if err != nil {
		s.logger.Error("consent not recorded", "err", err)
		writeProblem(w, internalError())
		return
	}
	writeJSON(w, http.StatusCreated, viewOfConsent(e))
}

func viewOfConsent(e *store.ConsentEvent) consentView {
	return consentView{ID: e.ID, Purpose: e.Purpose, Action: e.Action, Source: e.Source,
		WordingVersion: e.WordingVersion, WordingHash: e.WordingHash, IP: e.RemoteAddr,
		UserAgent: e.UserAgent, Actor: e.Actor, At: e.CreatedAt}
}

// getConsents returns an address's consent history and current state per
// purpose. The address travels in the query string of this compliance-only
// route; request logs record the route pattern, never the URL.
func (s *Server) getConsents(w http.ResponseWriter, r *http.Request) {
	key, err := compliance.Normalize(r.URL.Query().Get("email"))
	if err != nil {
		writeProblem(w, validationProblem("the email parameter is not valid",
			FieldProblem{Pointer: "/email", Detail: reasonOf(err)}))
		return
	}
	events, err := s.db.ListConsentEvents(r.Context(), key)
	if err != nil {
		s.logger.Error("list consents failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	history := make([]consentView, 0, len(events))
	current := map[string]string{}
	for i := range events {
		history = append(history, viewOfConsent(&events[i]))
		if a := events[i].Action; a == "grant" || a == "withdraw" {
			current[events[i].Purpose] = map[string]string{"grant": "granted", "withdraw": "withdrawn"}[a]
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"current": current, "history": history})
}

type suppressionBody struct {
	Email  string `json:"email"`
	Scope  string `json:"scope"`
	Reason string `json:"reason"`
}

type suppressionView struct {
	ID            string     `json:"id"`
	Scope         string     `json:"scope"`
	Reason        string     `json:"reason"`
	Source        string     `json:"source"`
	MessageID     string     `json:"message_id,omitempty"`
	At            time.Time  `json:"at"`
	RemovedAt     *time.Time `json:"removed_at,omitempty"`
	RemovedBy     string     `json:"removed_by,omitempty"`
	RemovalReason string     `json:"removal_reason,omitempty"`
}

func viewOfSuppression(s *store.Suppression) suppressionView {
	return suppressionView{ID: s.ID, Scope: s.Scope, Reason: s.Reason, Source: s.Source,
		MessageID: s.MessageID, At: s.CreatedAt, RemovedAt: s.RemovedAt, RemovedBy: s.RemovedBy,
		RemovalReason: s.RemovalReason}
}

func (s *Server) postSuppression(w http.ResponseWriter, r *http.Request) {
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in suppressionBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}
	var probs []FieldProblem
	if _, err := compliance.Normalize(in.Email); err != nil {
		probs = append(probs, FieldProblem{Pointer: "/email", Detail: reasonOf(err)})
	}
	if in.Scope == "" {
		in.Scope = compliance.ScopeAll
	}
	if in.Scope != compliance.ScopeAll && in.Scope != compliance.ScopeMarketing {
		probs = append(probs, FieldProblem{Pointer: "/scope", Detail: "must be all or marketing"})
	}
	if in.Reason == "" {
		in.Reason = compliance.ReasonManual
	}
	switch in.Reason {
	case compliance.ReasonManual, compliance.ReasonUnsubscribe, compliance.ReasonComplaint,
		compliance.ReasonHardBounce:
	default:
		probs = append(probs, FieldProblem{Pointer: "/reason",
			Detail: "must be manual, unsubscribe, complaint or hard_bounce"})
	}
	if len(probs) > 0 {
		writeProblem(w, validationProblem("the suppression was not added", probs...))
		return
	}
	var sup *store.Suppression
	err := s.db.InTx(r.Context(), func(tx *store.Tx) error {
		var err error
		sup, err = s.comply.Suppress(r.Context(), tx, in.Email, in.Scope, in.Reason, "api", "",
			principalFrom(r.Context()).KeyID)
		return err
	})
	if err != nil {
		s.logger.Error("suppression not added", "err", err)
		writeProblem(w, internalError())
		return
	}
	writeJSON(w, http.StatusCreated, viewOfSuppression(sup))
}

func (s *Server) listSuppressions(w http.ResponseWriter, r *http.Request) {
	key := ""
	if email := r.URL.Query().Get("email"); email != "" {
		var err error
		if key, err = compliance.Normalize(email); err != nil {
			writeProblem(w, validationProblem("the email parameter is not valid",
				FieldProblem{Pointer: "/email", Detail: reasonOf(err)}))
			return
		}
	}
	list, err := s.db.ListSuppressions(r.Context(), key, 1000)
	if err != nil {
		s.logger.Error("list suppressions failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	out := make([]suppressionView, 0, len(list))
	for i := range list {
		out = append(out, viewOfSuppression(&list[i]))
	}
	writeJSON(w, http.StatusOK, map[string]any{"suppressions": out})
}

type removalBody struct {
	Reason string `json:"reason"`
}

// deleteSuppression ends a suppression; it needs a reason, and the row
// stays with who removed it, when and why.
func (s *Server) deleteSuppression(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !idRE.MatchString(id) {
		writeProblem(w, notFound("no active suppression has that id"))
		return
	}
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in removalBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}
	if in.Reason == "" || len(in.Reason) > 300 || containsControl(in.Reason) {
		writeProblem(w, validationProblem("a removal needs a reason",
			FieldProblem{Pointer: "/reason", Detail: "must be 1 to 300 characters on one line"}))
		return
	}
	by := principalFrom(r.Context()).KeyID
	err := s.db.InTx(r.Context(), func(tx *store.Tx) error {
		if err := tx.RemoveSuppression(r.Context(), id, by, in.Reason, time.Now()); err != nil {
			return err
		}
		if s.comply.OnChange != nil {
			return s.comply.OnChange(r.Context(), tx, compliance.Change{Kind: "suppression.removed",
				ObjectID: id, Actor: by})
		}
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, notFound("no active suppression has that id"))
		return
	}
	if err != nil {
		s.logger.Error("suppression not removed", "err", err)
		writeProblem(w, internalError())
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// requestConsent starts double opt-in. Every outcome that is not an error
// gets the same answer, whether a mail was sent or the address had already
// confirmed, so the answer reveals nothing about the address.
func (s *Server) requestConsent(w http.ResponseWriter, r *http.Request, e *store.ConsentEvent) {
	if s.sendConfirmation == nil || !s.comply.CanUnsubscribe() {
		writeProblem(w, validationProblem(
			"double opt-in is not enabled",
			FieldProblem{
				Pointer: "/action",
				Detail:  "double opt-in needs the portal secret and public URL",
			},
		))
		return
	}
	err := s.comply.RequestConsent(r.Context(), e, s.sendConfirmation)
	if errors.Is(err, compliance.ErrTooSoon) {
		w.Header().Set("Retry-After", "600")
		writeProblem(
			w,
			&Problem{
				Type:   typeTooMany,
				Title:  "Too many requests",
				Status: http.StatusTooManyRequests,
				Detail: "a confirmation was sent to this address less than 10 minutes ago",
			},
		)
		return
	}
	if err != nil {
		s.logger.Error("consent request failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "confirmation_requested"})
}

// postBounces takes provider-style JSON bounce and complaint events for
// relays that report that way; message_id is the id this API returned.
func (s *Server) postBounces(w http.ResponseWriter, r *http.Request) {
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	reports, err := bounce.ParseJSONEvents(bytes.NewReader(body))
	if err != nil {
		writeProblem(w, validationProblem("the events were not accepted: "+err.Error()))
		return
	}
	if err := s.reports(r.Context(), reports); err != nil {
		s.logger.Error("bounce events not applied", "err", err)
		w.Header().Set("Retry-After", "1")
		writeProblem(w, &Problem{Type: typeUnavailable, Title: "Unavailable",
			Status: http.StatusServiceUnavailable, Detail: "the events were not applied; retry"})
		return
	}
	writeJSON(w, http.StatusAccepted, map[string]int{"accepted": len(reports)})
}

// exportFilter reads ?email=&since=&until= for an export.
func exportFilter(r *http.Request) (store.ExportFilter, *Problem) {
	q := r.URL.Query()
	var f store.ExportFilter
	if email := q.Get("email"); email != "" {
		key, err := compliance.Normalize(email)
		if err != nil {
			return f, validationProblem("the email parameter is not valid",
				FieldProblem{Pointer: "/email", Detail: reasonOf(err)})
		}
		f.Address = key
	}
	for name, dst := range map[string]*time.Time{"since": &f.Since, "until": &f.Until} {
		v := q.Get(name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			if t, err = time.Parse("2006-01-02", v); err != nil {
				return f, validationProblem("a time parameter is not valid",
					FieldProblem{Pointer: "/" + name, Detail: "must be an RFC 3339 time or a date"})
			}
		}
		*dst = t
	}
	return f, nil
}

func (s *Server) exportConsents(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "consents", compliance.ExportConsents)
}

func (s *Server) exportSuppressions(w http.ResponseWriter, r *http.Request) {
	s.export(w, r, "suppressions", compliance.ExportSuppressions)
}

// export streams a compliance export and records it as an audit event.
func (s *Server) export(w http.ResponseWriter, r *http.Request, what string,
	write func(context.Context, *store.DB, store.ExportFilter, string, io.Writer) (int, error),
) {
	f, prob := exportFilter(r)
	if prob != nil {
		writeProblem(w, prob)
		return
	}
	format, ok := exportFormat(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Disposition", "attachment; filename=\"sealpost-"+what+"."+format+"\"")
	n, err := write(r.Context(), s.db, f, format, w)
	if err != nil {
		s.logger.Error("export failed part way", "export", what, "err", err)
	}
	s.audit(r, audit.Event{Actor: principalFrom(r.Context()).KeyID, Action: "export." + what,
		ObjectType: "export", ObjectID: what, Details: compliance.ExportDetails(format, n, f)})
}

// verifyAudit walks the audit chain and reports the first broken link.
func (s *Server) verifyAudit(w http.ResponseWriter, r *http.Request) {
	report, err := audit.Verify(r.Context(), s.db)
	if err != nil {
		s.logger.Error("audit verify failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	s.audit(r, audit.Event{Actor: principalFrom(r.Context()).KeyID, Action: "audit.verified",
		ObjectType: "audit", ObjectID: "chain", Details: map[string]string{"ok": strconv.FormatBool(report.OK)}})
	writeJSON(w, http.StatusOK, map[string]any{
		"ok": report.OK, "events": report.Events, "first_bad": report.FirstBad, "reason": report.Reason,
		"head_seq": report.HeadSeq, "head": hex.EncodeToString(report.Head),
	})
}

// exportAudit streams the audit log with its hashes.
func (s *Server) exportAudit(w http.ResponseWriter, r *http.Request) {
	f, prob := exportFilter(r)
	if prob != nil {
		writeProblem(w, prob)
		return
	}
	format, ok := exportFormat(w, r)
	if !ok {
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	n, err := audit.Export(r.Context(), s.db, f.Since, f.Until, format, w)
	if err != nil {
		s.logger.Error("audit export failed part way", "err", err)
	}
	s.audit(r, audit.Event{Actor: principalFrom(r.Context()).KeyID, Action: "export.audit",
		ObjectType: "export", ObjectID: "audit", Details: map[string]string{"format": format,
			"rows": strconv.Itoa(n)}})
}

// exportFormat reads ?format= (ndjson, the default, or csv) and sets the
// matching content type; it writes the problem and reports false for any
// other value. The compliance and audit exports share the two formats.
func exportFormat(w http.ResponseWriter, r *http.Request) (string, bool) {
	switch format := r.URL.Query().Get("format"); format {
	case "", compliance.FormatNDJSON:
		w.Header().Set("Content-Type", "application/x-ndjson")
		return compliance.FormatNDJSON, true
	case compliance.FormatCSV:
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		return compliance.FormatCSV, true
	}
	writeProblem(w, validationProblem("unknown format",
		FieldProblem{Pointer: "/format", Detail: "must be ndjson or csv"}))
	return "", false
}
