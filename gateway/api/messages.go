package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"

	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/mime"
	"github.com/sealpost/sealpost/gateway/outbound"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/sealed"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/queue"
	"github.com/sealpost/sealpost/templates"
	"github.com/sealpost/sealpost/templates/phi"
)

// Limits on the optional extra headers of a message.
const (
	MaxExtraHeaders     = 10
	MaxHeaderValueRunes = 200
	MaxIdempotencyKey   = 255
)

// Categories of mail.
const (
	CategoryTransactional = "transactional"
	CategoryMarketing     = "marketing"
)

var (
	extraHeaderNameRE = regexp.MustCompile(`^X-[A-Za-z0-9][A-Za-z0-9-]{0,62}$`)
	idempotencyKeyRE  = regexp.MustCompile(`^[\x21-\x7e]{1,255}$`)
)

// messageBody is what POST /v1/messages takes.
type messageBody struct {
	Template  string            `json:"template"`
	To        json.RawMessage   `json:"to"`
	Data      map[string]any    `json:"data"`
	Category  string            `json:"category"`
	Headers   map[string]string `json:"headers"`
	Sensitive json.RawMessage   `json:"sensitive"`
	Portal    *portalOptions    `json:"portal"`
}

// portalOptions tune the portal link of a message with a sensitive payload.
type portalOptions struct {
	ExpiresIn string            `json:"expires_in"`
	Knowledge *portal.Knowledge `json:"knowledge"`
}

// recipient is the object form of "to".
type recipient struct {
	Email string `json:"email"`
	Name  string `json:"name"`
}

type acceptedView struct {
	ID     string `json:"id"`
	Status string `json:"status"`
}

func (s *Server) postMessage(w http.ResponseWriter, r *http.Request) {
	p := principalFrom(r.Context())
	idem := r.Header.Get("Idempotency-Key")
	if d := phiDetail(strings.NewReplacer("-", " ", "_", " ", ".", " ").Replace(idem)); idem != "" && d != "" {
		writeProblem(w, validationProblem("the Idempotency-Key header is not valid",
			FieldProblem{Pointer: "/headers/Idempotency-Key", Detail: d}))
		return
	}
	if idem != "" && !idempotencyKeyRE.MatchString(idem) {
		writeProblem(w, validationProblem("the Idempotency-Key header is not valid",
			FieldProblem{Pointer: "/headers/Idempotency-Key",
				Detail: "must be 1 to 255 printable ASCII characters without spaces"}))
		return
	}
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in messageBody
	if prob := decodeStrict(body, &in); prob != nil {
		writeProblem(w, prob)
		return
	}

	to, probs := parseRecipient(in.To)
	if in.Category == "" {
		in.Category = CategoryTransactional
	}
	switch in.Category {
	case CategoryTransactional:
	case CategoryMarketing:
	default:
		probs = append(
			probs,
			FieldProblem{Pointer: "/category", Detail: "must be transactional or marketing"},
		)
	}
	probs = append(probs, checkExtraHeaders(in.Headers)...)

	var entry *catalog.Entry
	switch {
	case in.Template == "":
		probs = append(probs, FieldProblem{Pointer: "/template", Detail: "is required"})
	case reservedTemplate(in.Template):
		probs = append(probs, FieldProblem{Pointer: "/template",
			Detail: "names a template the gateway keeps for its own mail"})
	case templates.ValidateName(in.Template) != nil:
		probs = append(
			probs,
			FieldProblem{Pointer: "/template", Detail: "is not a valid template name"},
		)
	default:
		var err error
		entry, err = s.catalog.Get(r.Context(), in.Template, 0)
		if errors.Is(err, catalog.ErrNotFound) {
			probs = append(
				probs,
				FieldProblem{Pointer: "/template", Detail: "names no saved template"},
			)
		} else if err != nil {
			s.logger.Error("load template failed", "err", err)
			writeProblem(w, internalError())
			return
		}
	}
	if entry != nil && entry.Template.Category == templates.CategoryMarketing &&
		in.Category != CategoryMarketing {
		probs = append(probs, FieldProblem{Pointer: "/category",
			Detail: "the template is a marketing template; it cannot be sent as transactional " +
				"mail"})
	}
	if in.Data == nil {
		in.Data = map[string]any{}
	}
	id, err := uuid.NewV7()
	if err != nil {
		writeProblem(w, internalError())
		return
	}
	ttl, sensProbs := s.checkSensitive(&in, entry)
	probs = append(probs, sensProbs...)
	if entry != nil {
		data := in.Data
		if _, ok := entry.Template.Variables[outbound.PortalVariable]; ok && s.portal != nil {
			data = maps.Clone(in.Data)
			data[outbound.PortalVariable] = s.portal.URL(id.String())
		}
		if err := entry.Compiled.ValidateData(data); err != nil {
			dataProbs, _ := problemsOf(err)
			probs = append(probs, dataProbs...)
		}
	}
	if len(probs) > 0 {
		sort.Slice(probs, func(i, j int) bool { return probs[i].Pointer < probs[j].Pointer })
		writeProblem(w, validationProblem("the message was not accepted", probs...))
		return
	}

	m, err := s.newMessage(id.String(), p.KeyID, idem, &in, to, entry)
	if err != nil {
		s.logger.Error("build message failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	if prob := s.checkRecipient(r, m); prob != nil {
		writeProblem(w, prob)
		return
	}
	if s.check != nil {
		if err := s.check(r.Context(), m); err != nil {
			prob := buildProblem(err)
			if prob == nil {
				s.logger.Error("message check failed", "err", err)
				prob = internalError()
			}
			writeProblem(w, prob)
			return
		}
	}
	var also []func(context.Context, *store.Tx) error
	if m.Status == store.StatusSuppressed {
		also = append(also, func(ctx context.Context, tx *store.Tx) error {
			return s.queue.NotifyTx(
				ctx,
				tx,
				"suppressed",
				m.ID,
				string(store.StatusSuppressed),
				0,
				"",
				"recipient suppressed",
			)
		})
	}
	if len(in.Sensitive) > 0 {
		var k *portal.Knowledge
		if in.Portal != nil {
			k = in.Portal.Knowledge
		}
		prepared, err := s.portal.Prepare(r.Context(), m.ID, in.Sensitive, ttl, k)
		if err != nil {
			s.logger.Error("sensitive payload not sealed", "err", err)
			writeProblem(w, internalError())
			return
		}
		also = append(also, prepared.Store)
	}
	accepted, replayed, err := s.queue.Accept(r.Context(), m, also...)
	switch {
	case errors.Is(err, queue.ErrIdempotencyMismatch):
		writeProblem(w, &Problem{Type: typeConflict, Title: "Conflict", Status: http.StatusConflict,
			Detail: "this Idempotency-Key was already used with a different request"})
		return
	case err != nil:
		// Every other failure here is the database's (busy, locked by
		// another process, unreachable): nothing was stored, and the client
		// should retry.
		s.logger.Error("accept message failed", "err", err)
		w.Header().Set("Retry-After", "1")
		writeProblem(w, &Problem{Type: typeUnavailable, Title: "Unavailable",
			Status: http.StatusServiceUnavailable,
			Detail: "the message was not stored because the database is busy or unreachable; " +
				"retry"})
		return
	}
	if replayed {
		w.Header().Set("Idempotent-Replayed", "true")
	} else {
		s.metrics.Accepted(m.Category, len(in.Sensitive) > 0)
		s.logger.Debug("message accepted", "message", accepted, "key_id", p.KeyID)
	}
	w.Header().Set("Location", "/v1/messages/"+accepted.ID)
	writeJSON(
		w,
		http.StatusAccepted,
		acceptedView{ID: accepted.ID, Status: string(accepted.Status)},
	)
}

func (s *Server) newMessage(id, keyID, idem string, in *messageBody, to address.Address,
	entry *catalog.Entry,
) (*store.Message, error) {
	data, err := json.Marshal(in.Data)
	if err != nil {
		return nil, err
	}
	headers := in.Headers
	if headers == nil {
		headers = map[string]string{}
	}
	hdrJSON, err := json.Marshal(headers)
	if err != nil {
		return nil, err
	}
	// The request hash covers everything that shapes the message, in a
	// canonical form (json.Marshal sorts map keys), so a replay is
	// recognised regardless of key order or whitespace.
	// A sensitive payload enters the hash only as a keyed fingerprint, so
	// the stored hash cannot be used to confirm a guessed payload.
	var sensitive string
	if len(in.Sensitive) > 0 {
		sensitive = s.portal.Fingerprint(in.Sensitive)
	}
	canon, err := json.Marshal(struct {
		Template  string            `json:"template"`
		To        recipient         `json:"to"`
		Data      json.RawMessage   `json:"data"`
		Category  string            `json:"category"`
		Headers   map[string]string `json:"headers"`
		Sensitive string            `json:"sensitive,omitempty"`
		Portal    *portalOptions    `json:"portal,omitempty"`
	}{in.Template, recipient{Email: to.Email, Name: to.Name}, data, in.Category, headers, sensitive,
		portalFingerprint(s.portal, in.Portal)})
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)

	return &store.Message{
		ID:              id,
		APIKeyID:        keyID,
		IdempotencyKey:  idem,
		RequestHash:     sum[:],
		TemplateName:    entry.Template.Name,
		TemplateVersion: entry.Template.Version,
		Category:        in.Category,
		Recipient:       to.Email,
		RecipientName:   to.Name,
		Data:            string(data),
		Headers:         string(hdrJSON),
		RFCMessageID:    mime.NewMessageID(s.from.Domain()),
		Status:          store.StatusQueued,
		CreatedAt:       time.Now().UTC(),
	}, nil
}

func portalFingerprint(p *portal.Service, o *portalOptions) *portalOptions {
	if o == nil || o.Knowledge == nil || p == nil {
		return o
	}
	c := *o
	c.Knowledge = &portal.Knowledge{
		Kind:   o.Knowledge.Kind,
		Answer: p.Fingerprint([]byte(o.Knowledge.Answer)),
	}
	return &c
}

// checkSensitive validates the sensitive payload and portal options and
// returns the link's lifetime.
func (s *Server) checkSensitive(
	in *messageBody,
	entry *catalog.Entry,
) (time.Duration, []FieldProblem) {
	var probs []FieldProblem
	if _, ok := in.Data[outbound.PortalVariable]; ok {
		probs = append(probs, FieldProblem{Pointer: "/data/" + outbound.PortalVariable,
			Detail: "is filled in by the gateway; leave it out"})
	}
	showsLink := false
	if entry != nil {
		_, showsLink = entry.Template.Variables[outbound.PortalVariable]
	}
	raw := bytes.TrimSpace(in.Sensitive)
	has := len(raw) > 0 && string(raw) != "null"
	if !has {
		in.Sensitive = nil
		if in.Portal != nil {
			probs = append(
				probs,
				FieldProblem{Pointer: "/portal", Detail: "is only used with a sensitive payload"},
			)
		}
		if showsLink {
			probs = append(probs, FieldProblem{Pointer: "/sensitive",
				Detail: "is required: this template links to the portal"})
		}
		return 0, probs
	}
	switch {
	case s.portal == nil:
		return 0, append(probs, FieldProblem{Pointer: "/sensitive",
			Detail: "sensitive payloads are not enabled on this gateway (no master key or " +
				"public URL)"})
	case raw[0] != '{':
		probs = append(probs, FieldProblem{Pointer: "/sensitive", Detail: "must be a JSON object"})
	case len(raw) > portal.MaxPayloadBytes:
		probs = append(probs, FieldProblem{Pointer: "/sensitive",
			Detail: fmt.Sprintf("may be at most %d bytes", portal.MaxPayloadBytes)})
	}
	if entry != nil && !showsLink {
		probs = append(probs, FieldProblem{Pointer: "/template",
			Detail: "does not show the portal link ({{." + outbound.PortalVariable + "}}), " +
				"so the recipient could not reach the sensitive content"})
	}
	var ttl time.Duration
	if o := in.Portal; o != nil {
		if o.ExpiresIn != "" {
			d, err := time.ParseDuration(o.ExpiresIn)
			if err != nil || d < portal.MinLinkTTL || d > portal.MaxLinkTTL {
				probs = append(probs, FieldProblem{Pointer: "/portal/expires_in",
					Detail: "must be a duration from 10m to 720h, such as 72h"})
			}
			ttl = d
		}
		if k := o.Knowledge; k != nil {
			if k.Kind != "dob" && k.Kind != "zip" {
				probs = append(
					probs,
					FieldProblem{Pointer: "/portal/knowledge/type", Detail: "must be dob or zip"},
				)
			}
			if !validKnowledge(k.Kind, k.Answer) {
				probs = append(probs, FieldProblem{Pointer: "/portal/knowledge/answer",
					Detail: "must be a real date (YYYY-MM-DD or MM/DD/YYYY) for dob, " +
						"or a 5-digit ZIP code for zip"})
			} else if strings.TrimSpace(k.Answer) == "" || len(k.Answer) > 64 ||
				strings.ContainsFunc(k.Answer, isControl) {
				probs = append(probs, FieldProblem{Pointer: "/portal/knowledge/answer",
					Detail: "must be 1 to 64 characters on one line"})
			}
		}
	}
	return ttl, probs
}

// parseRecipient reads "to" as an address string or {"email","name"}.
func parseRecipient(raw json.RawMessage) (address.Address, []FieldProblem) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return address.Address{}, []FieldProblem{{Pointer: "/to", Detail: "is required"}}
	}
	var rcpt recipient
	ptr := "/to"
	switch raw[0] {
	case '"':
		if err := json.Unmarshal(raw, &rcpt.Email); err != nil {
			return address.Address{}, []FieldProblem{
				{Pointer: "/to", Detail: "is not a valid JSON string"},
			}
		}
	case '{':
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&rcpt); err != nil {
			return address.Address{}, []FieldProblem{{Pointer: "/to",
				Detail: "must be an object with only the fields email and name, both strings"}}
		}
		ptr = "/to/email"
	case '[':
		return address.Address{}, []FieldProblem{{Pointer: "/to",
			Detail: "a message has exactly one recipient; send one message per recipient"}}
	default:
		return address.Address{}, []FieldProblem{{Pointer: "/to",
			Detail: "must be an address string or an object with email and name"}}
	}
	if rcpt.Email == "" {
		return address.Address{}, []FieldProblem{{Pointer: ptr, Detail: "is required"}}
	}
	if rcpt.Name != "" {
		if _, err := address.ParseWithName(rcpt.Name, "x@example.test"); err != nil {
			return address.Address{}, []FieldProblem{{Pointer: "/to/name", Detail: reasonOf(err)}}
		}
		if d := phiDetail(rcpt.Name); d != "" {
			return address.Address{}, []FieldProblem{{Pointer: "/to/name", Detail: d}}
		}
	}
	a, err := address.ParseWithName(rcpt.Name, rcpt.Email)
	if err != nil {
		return address.Address{}, []FieldProblem{{Pointer: ptr, Detail: reasonOf(err)}}
	}
	return a, nil
}

func reasonOf(err error) string {
	var ie *address.InvalidError
	if errors.As(err, &ie) {
		return "is not a valid address: " + ie.Reason
	}
	return "is not a valid address"
}

func checkExtraHeaders(h map[string]string) []FieldProblem {
	if len(h) > MaxExtraHeaders {
		return []FieldProblem{{Pointer: "/headers", Detail: "may hold at most 10 headers"}}
	}
	var out []FieldProblem
	for name, value := range h {
		ptr := "/headers"
		if fieldNameRE.MatchString(name) {
			ptr += "/" + name
		}
		switch {
		case !extraHeaderNameRE.MatchString(name):
			out = append(out, FieldProblem{Pointer: ptr,
				Detail: "header names must start with X- and hold only letters, digits and -"})
		case !utf8.ValidString(value) || strings.ContainsFunc(value, isControl):
			out = append(out, FieldProblem{Pointer: ptr,
				Detail: "must be one line without control characters (CR, LF, NUL, …)"})
		case strings.ContainsFunc(value, func(r rune) bool { return r > 0x7e }):
			out = append(out, FieldProblem{Pointer: ptr, Detail: "must be printable ASCII"})
		case utf8.RuneCountInString(value) > MaxHeaderValueRunes:
			out = append(out, FieldProblem{Pointer: ptr, Detail: "may be at most 200 characters"})
		case strings.Contains(value, "=?"):
			out = append(out, FieldProblem{Pointer: ptr,
				Detail: "may not contain an encoded word (=?)"})
		case phiDetail(name+" "+value) != "":
			out = append(out, FieldProblem{Pointer: ptr, Detail: phiDetail(name + " " + value)})
		}
	}
	return out
}

// checkRecipient applies suppression and consent. A suppressed recipient's
// message is still accepted and recorded, as suppressed and without a
// delivery job, so the sender can see why it was not sent. Marketing mail
// without current consent is refused.
func (s *Server) checkRecipient(r *http.Request, m *store.Message) *Problem {
	if s.comply == nil {
		if m.Category == CategoryMarketing {
			return validationProblem(
				"marketing mail needs consent records",
				FieldProblem{
					Pointer: "/category",
					Detail:  "marketing mail is not enabled on this gateway",
				},
			)
		}
		return nil
	}
	ctx := r.Context()
	_, suppressed, err := s.comply.Suppressed(ctx, m.Recipient, m.Category)
	if err != nil {
		s.logger.Error("suppression check failed", "err", err)
		return internalError()
	}
	if suppressed {
		m.Status = store.StatusSuppressed
		return nil
	}
	if m.Category == CategoryMarketing {
		if !s.comply.CanUnsubscribe() {
			return validationProblem("marketing mail is not enabled",
				FieldProblem{Pointer: "/category",
					Detail: "marketing mail needs one-click unsubscribe links: configure the " +
						"portal secret and public URL"})
		}
		ok, err := s.comply.HasConsent(ctx, m.Recipient, compliance.PurposeMarketing)
		if err != nil {
			s.logger.Error("consent check failed", "err", err)
			return internalError()
		}
		if !ok {
			return validationProblem("the message was not accepted",
				FieldProblem{Pointer: "/to", Detail: "has no current marketing consent on record"})
		}
	}
	return nil
}

// phiDetail returns why text looks like health information, or "". Names,
// headers and keys are stored and sent in clear, so they are held to the
// same lint as template data.
func phiDetail(text string) string {
	if f, found := phi.Default().ScanFirst(text); found {
		return "looks like health information (rule " + f.Rule + ")"
	}
	return ""
}

// reservedTemplate reports names the gateway keeps for its own mail.
func reservedTemplate(name string) bool { return strings.HasPrefix(name, "sealpost-") }

// buildProblem describes why an otherwise valid message could not be built,
// or returns nil when the failure is not the request's fault.
func buildProblem(err error) *Problem {
	var fe *mime.FieldError
	if errors.As(err, &fe) {
		ptr := "/data"
		switch {
		case strings.HasPrefix(fe.Field, "headers"):
			ptr = "/headers"
		case strings.HasPrefix(fe.Field, "to"):
			ptr = "/to"
		}
		detail := "produces a " + fe.Field + " that cannot be sent: " + fe.Reason
		if ptr == "/data" && fe.Field == "subject" {
			detail = "renders a subject that cannot be sent: " + fe.Reason
		}
		return validationProblem("the message cannot be built from this data",
			FieldProblem{Pointer: ptr, Detail: detail})
	}
	var re *templates.RenderError
	if errors.As(err, &re) {
		return validationProblem("the template cannot be rendered with this data: " + re.Error())
	}
	return nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) }

type messageView struct {
	ID               string     `json:"id"`
	Status           string     `json:"status"`
	Category         string     `json:"category"`
	Template         string     `json:"template"`
	TemplateVersion  int        `json:"template_version"`
	Attempts         int        `json:"attempts"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
	SentAt           *time.Time `json:"sent_at,omitempty"`
	LastReplyCode    int        `json:"last_reply_code,omitempty"`
	LastEnhancedCode string     `json:"last_enhanced_code,omitempty"`
	LastError        string     `json:"last_error,omitempty"`
}

// canRead reports whether p may see m's status: its own messages, or any
// message for admin and compliance keys.
func canRead(p *apikey.Principal, m *store.Message) bool {
	return p.KeyID == m.APIKeyID || p.Has(apikey.Admin, apikey.Compliance)
}

func (s *Server) getMessage(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if _, err := uuid.Parse(id); err != nil {
		writeProblem(w, notFound("no message has that id"))
		return
	}
	m, err := s.db.GetMessage(r.Context(), id)
	if err == nil && !canRead(principalFrom(r.Context()), m) {
		err = store.ErrNotFound
	}
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, notFound("no message has that id"))
		return
	}
	if err != nil {
		s.logger.Error("load message failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	status := m.Status
	if (status == store.StatusQueued || status == store.StatusDeferred) && m.JobID != 0 {
		if state, err := s.db.JobState(r.Context(), m.JobID); err == nil && state == "running" {
			status = store.StatusSending
		}
	}
	writeJSON(w, http.StatusOK, messageView{
		ID: m.ID, Status: string(status), Category: m.Category, Template: m.TemplateName,
		TemplateVersion: m.TemplateVersion, Attempts: m.Attempts, CreatedAt: m.CreatedAt,
		UpdatedAt: m.UpdatedAt, SentAt: m.SentAt, LastReplyCode: m.LastReplyCode,
		LastEnhancedCode: m.LastEnhancedCode, LastError: m.LastError,
	})
}

var (
	dobRE = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	zipRE = regexp.MustCompile(`^\d{5}$`)
)

// validKnowledge reports whether an answer normalises to something the
// recipient can type back: a real calendar date, or a ZIP code.
func validKnowledge(kind, answer string) bool {
	normal := sealed.NormalizeKnowledge(answer)
	switch kind {
	case "dob":
		t, err := time.Parse("2006-01-02", normal)
		return dobRE.MatchString(normal) && err == nil && t.Before(time.Now())
	case "zip":
		return zipRE.MatchString(normal)
	}
	return true
}
