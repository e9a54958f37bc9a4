package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/bounce"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/metrics"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/queue"
)

// DefaultMaxRequestBytes bounds request bodies when Config leaves it zero.
const DefaultMaxRequestBytes = 1 << 20

// Config wires the API to the rest of the gateway.
type Config struct {
	DB              *store.DB
	Queue           *queue.Queue
	Catalog         *catalog.Catalog
	Auth            *apikey.Authenticator
	From            address.Address // its domain names Message-IDs
	MaxRequestBytes int64
	Logger          *slog.Logger
	// Check, when set, builds an accepted message once before it is
	// stored, so that nothing is accepted that could not be sent.
	Check func(ctx context.Context, m *store.Message) error
	// Portal, when set, accepts sensitive payloads behind portal links.
	Portal *portal.Service
	// Metrics, when set, is served at /metrics to admin keys and fed by
	// every request.
	Metrics *metrics.Metrics
	// Compliance checks suppression and consent and records changes.
	Compliance *compliance.Service
	// SendConfirmation mails double opt-in confirmation links.
	SendConfirmation compliance.SendConfirmation
	// Reports applies bounce and complaint reports that relays post as JSON.
	Reports func(ctx context.Context, reports []bounce.Report) error
}

// Server is the HTTP API.
type Server struct {
	db      *store.DB
	queue   *queue.Queue
	catalog *catalog.Catalog
	auth    *apikey.Authenticator
	from    address.Address
	limit   int64
	logger  *slog.Logger
	mux     *http.ServeMux
	check   func(ctx context.Context, m *store.Message) error
	portal  *portal.Service
	metrics *metrics.Metrics
	comply  *compliance.Service

	sendConfirmation compliance.SendConfirmation
	reports          func(ctx context.Context, reports []bounce.Report) error
}

// New builds the API server.
func New(cfg Config) *Server {
	s := &Server{
		db: cfg.DB, queue: cfg.Queue, catalog: cfg.Catalog, auth: cfg.Auth, from: cfg.From,
		limit: cfg.MaxRequestBytes, logger: cfg.Logger, mux: http.NewServeMux(), check: cfg.Check,
		portal: cfg.Portal, metrics: cfg.Metrics, comply: cfg.Compliance,
		sendConfirmation: cfg.SendConfirmation, reports: cfg.Reports,
	}
	if s.limit == 0 {
		s.limit = DefaultMaxRequestBytes
	}
	if s.logger == nil {
		s.logger = slog.New(slog.DiscardHandler)
	}

	s.handle("GET /v1/templates", s.listTemplates, apikey.Admin, apikey.Marketer, apikey.Sender)
	s.handle("PUT /v1/templates/{name}", s.putTemplate, apikey.Admin)
	s.handle(
		"GET /v1/templates/{name}",
		s.getTemplate,
		apikey.Admin,
		apikey.Marketer,
		apikey.Sender,
	)
	s.handle("POST /v1/templates/{name}/preview", s.previewTemplate, apikey.Admin, apikey.Marketer)
	s.handle("POST /v1/messages", s.postMessage, apikey.Sender)
	s.handle("GET /v1/messages/{id}", s.getMessage, apikey.Sender, apikey.Admin, apikey.Compliance)
	s.handle("POST /v1/keys", s.postKey, apikey.Admin)
	s.handle("GET /v1/keys", s.listKeys, apikey.Admin)
	s.handle("DELETE /v1/keys/{id}", s.revokeKey, apikey.Admin)
	s.mux.HandleFunc("GET /healthz", s.healthz)
	if s.comply != nil {
		s.mux.Handle("/u/", s.comply.Handler())
		s.mux.Handle("/c/", s.comply.ConfirmHandler())
		s.handle(
			"POST /v1/consents",
			s.postConsent,
			apikey.Compliance,
			apikey.Admin,
			apikey.Marketer,
		)
		s.handle("GET /v1/consents", s.getConsents, apikey.Compliance, apikey.Admin)
		s.handle("GET /v1/suppressions", s.listSuppressions, apikey.Compliance, apikey.Admin)
		s.handle("POST /v1/suppressions", s.postSuppression, apikey.Compliance, apikey.Admin,
			apikey.Marketer, apikey.Sender)
		s.handle(
			"DELETE /v1/suppressions/{id}",
			s.deleteSuppression,
			apikey.Compliance,
			apikey.Admin,
		)
		s.handle("GET /v1/exports/consents", s.exportConsents, apikey.Compliance)
		s.handle("GET /v1/exports/suppressions", s.exportSuppressions, apikey.Compliance)
		s.handle("GET /v1/exports/audit", s.exportAudit, apikey.Compliance)
		s.handle("GET /v1/audit/verify", s.verifyAudit, apikey.Compliance)
	}
	if s.reports != nil {
		s.handle("POST /v1/events/bounces", s.postBounces, apikey.Admin, apikey.Compliance)
	}
	if s.metrics != nil {
		s.handle("GET /metrics", s.metrics.Handler().ServeHTTP, apikey.Admin)
	}
	if s.portal != nil {
		s.mux.Handle("/p/", s.portal.Handler())
	}
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeProblem(w, notFound("no such endpoint"))
	})
	return s
}

// Mount adds a handler outside /v1, such as the dev inbox.
func (s *Server) Mount(pattern string, h http.Handler) { s.mux.Handle(pattern, h) }

// ServeHTTP serves the API, recovering from any panic as a 500 so that a
// bug never takes the process down, and logging one line per request
// without the path's values or any body.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
	defer func() {
		if v := recover(); v != nil {
			s.logger.Error("request panicked", "route", routeOf(r))
			writeProblem(rec, internalError())
		}
		level := slog.LevelDebug
		if rec.status >= 500 {
			level = slog.LevelError
		}
		took := time.Since(start)
		s.logger.LogAttrs(r.Context(), level, "request", slog.String("method", r.Method),
			slog.String("route", routeOf(r)), slog.Int("status", rec.status),
			slog.Duration("duration", took))
		s.metrics.Request(routeOf(r), rec.status, took)
	}()
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'")
	s.mux.ServeHTTP(rec, r)
}

func routeOf(r *http.Request) string {
	if r.Pattern != "" {
		return r.Pattern
	}
	return "unmatched"
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

type principalKey struct{}

func principalFrom(ctx context.Context) *apikey.Principal {
	p, _ := ctx.Value(principalKey{}).(*apikey.Principal)
	return p
}

// handle registers h behind authentication and a role check.
func (s *Server) handle(pattern string, h http.HandlerFunc, roles ...apikey.Role) {
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		p, prob := s.authenticate(r)
		if prob != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="sealpost"`)
			writeProblem(w, prob)
			return
		}
		if !p.Has(roles...) {
			s.logger.Warn("role refused", "key_id", p.KeyID, "route", pattern)
			writeProblem(
				w,
				&Problem{Type: typeForbidden, Title: "Forbidden", Status: http.StatusForbidden,
					Detail: "this API key's roles do not allow this request"},
			)
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), principalKey{}, p)))
	})
}

func (s *Server) authenticate(r *http.Request) (*apikey.Principal, *Problem) {
	unauthorized := func(detail string) *Problem {
		return &Problem{
			Type:   typeUnauthorized,
			Title:  "Unauthorized",
			Status: http.StatusUnauthorized,
			Detail: detail,
		}
	}
	h := r.Header.Get("Authorization")
	if h == "" {
		return nil, unauthorized("send an API key as Authorization: Bearer <key>")
	}
	scheme, token, ok := strings.Cut(h, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return nil, unauthorized("the Authorization header must use the Bearer scheme")
	}
	p, err := s.auth.Authenticate(r.Context(), strings.TrimSpace(token))
	switch {
	case errors.Is(err, apikey.ErrMalformed), errors.Is(err, apikey.ErrInvalid):
		s.logger.Warn("authentication failed", "route", routeOf(r))
		s.audit(r, audit.Event{Actor: "unknown", Action: "auth.failed", ObjectType: "route",
			ObjectID: routeOf(r)})
		return nil, unauthorized("the API key is not valid")
	case err != nil:
		s.logger.Error("authentication lookup failed", "err", err)
		return nil, &Problem{
			Type:   typeUnavailable,
			Title:  "Unavailable",
			Status: http.StatusServiceUnavailable,
			Detail: "the key could not be checked; retry shortly",
		}
	}
	return p, nil
}

// audit records an event in its own transaction; a failure is logged, not
// returned, because the request it describes has already been decided.
func (s *Server) audit(r *http.Request, e audit.Event) {
	e.RemoteAddr = clientaddr.Truncate(r.RemoteAddr)
	if err := audit.AppendNow(context.WithoutCancel(r.Context()), s.db, e); err != nil {
		s.logger.Error("audit event not recorded", "action", e.Action, "err", err)
	}
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if _, err := s.db.GetTemplate(ctx, "-", 1); err != nil && !errors.Is(err, store.ErrNotFound) {
		writeProblem(
			w,
			&Problem{
				Type:   typeUnavailable,
				Title:  "Unavailable",
				Status: http.StatusServiceUnavailable,
				Detail: "the database is not reachable",
			},
		)
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
