package portal

import (
	"context"
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/httpsec"
	"github.com/sealpost/sealpost/gateway/sealed"
	"github.com/sealpost/sealpost/gateway/store"
)

// cookieName is the portal session cookie.
const cookieName = "sp_portal"

// Handler serves GET /p/{token}, POST /p/{token}/code and
// POST /p/{token}/verify. No page or log line contains the token.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /p/{token}", s.show)
	mux.HandleFunc("POST /p/{token}/code", s.requestCode)
	mux.HandleFunc("POST /p/{token}/verify", s.verify)
	return httpsec.Pages(mux)
}

// link resolves the path's token to a live link, or writes the page that
// says why not.
func (s *Service) link(w http.ResponseWriter, r *http.Request) (string, *store.PortalLink, bool) {
	token := r.PathValue("token")
	if !sealed.WellFormedToken(token) {
		s.page(w, http.StatusNotFound, pageGone, nil)
		return "", nil, false
	}
	l, err := s.db.GetPortalLink(r.Context(), sealed.HashToken(token))
	if errors.Is(err, store.ErrNotFound) || (err == nil && !s.now().Before(l.ExpiresAt)) {
		s.page(w, http.StatusNotFound, pageGone, nil)
		return "", nil, false
	}
	if err != nil {
		s.logger.Error("portal link lookup failed", "err", err)
		s.page(w, http.StatusServiceUnavailable, pageError, nil)
		return "", nil, false
	}
	if l.LockedAt != nil {
		s.page(w, http.StatusForbidden, pageLocked, nil)
		return "", nil, false
	}
	return token, l, true
}

func (s *Service) show(w http.ResponseWriter, r *http.Request) {
	token, l, ok := s.link(w, r)
	if !ok {
		return
	}
	if c, err := r.Cookie(cookieName); err == nil {
		hash := sealed.HashToken(c.Value)
		id, viewed, err := s.db.TouchPortalSession(r.Context(), hash, s.now(), SessionIdle)
		if err == nil && id == l.MessageID {
			if r.Method == http.MethodHead {
				// A HEAD must not use up the single view.
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				w.WriteHeader(http.StatusOK)
				return
			}
			if viewed {
				s.page(w, http.StatusOK, pageViewed, nil)
				return
			}
			s.reveal(w, r, l, hash)
			return
		}
	}
	s.page(w, http.StatusOK, pageVerify, map[string]any{
		"Action": "/p/" + token, "Knowledge": l.KnowledgeKind, "Sent": r.URL.Query().Has("sent"),
	})
}

func (s *Service) reveal(
	w http.ResponseWriter,
	r *http.Request,
	l *store.PortalLink,
	sessionHash []byte,
) {
	ctx := r.Context()
	p, err := s.db.GetPayload(ctx, l.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		s.page(w, http.StatusNotFound, pageGone, nil)
		return
	}
	if err != nil {
		s.logger.Error("portal payload lookup failed", "err", err)
		s.page(w, http.StatusServiceUnavailable, pageError, nil)
		return
	}
	plain, err := sealed.Open(ctx, s.kek, l.MessageID, &sealed.Sealed{KeyID: p.KeyID,
		WrappedKey: p.WrappedKey, Nonce: p.Nonce, Ciphertext: p.Ciphertext})
	if err != nil {
		s.logger.Error("portal payload does not open", "message_id", l.MessageID, "err", err)
		s.page(w, http.StatusServiceUnavailable, pageError, nil)
		return
	}
	first, err := s.db.MarkPortalSessionViewed(ctx, sessionHash, s.now())
	if err != nil || !first {
		s.page(w, http.StatusOK, pageViewed, nil)
		return
	}
	s.record(ctx, l.MessageID, "view", r.RemoteAddr)
	s.page(w, http.StatusOK, pageContent, map[string]any{"Rows": rowsOf(plain)})
}

type row struct{ Key, Value string }

// rowsOf lays a payload out as label/value rows; nested values are shown
// as compact JSON.
func rowsOf(plain []byte) []row {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil {
		return []row{{Key: "content", Value: string(plain)}}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]row, 0, len(keys))
	for _, k := range keys {
		var str string
		if json.Unmarshal(obj[k], &str) == nil {
			out = append(out, row{k, str})
			continue
		}
		out = append(out, row{k, string(obj[k])})
	}
	return out
}

func (s *Service) requestCode(w http.ResponseWriter, r *http.Request) {
	token, l, ok := s.link(w, r)
	if !ok {
		return
	}
	now := s.now()
	if l.CodeSentAt == nil || now.Sub(*l.CodeSentAt) >= CodeResendAfter {
		code, hash := sealed.NewCode(s.secret, token)
		if err := s.db.SetPortalCode(r.Context(), l.TokenHash, hash, now.Add(CodeTTL), now); err != nil {
			s.logger.Error("portal code not stored", "err", err)
			s.page(w, http.StatusServiceUnavailable, pageError, nil)
			return
		}
		if err := s.sendCode(r.Context(), l.MessageID, code); err != nil {
			s.logger.Error("portal code not sent", "err", err)
			s.page(w, http.StatusServiceUnavailable, pageError, nil)
			return
		}
		s.record(r.Context(), l.MessageID, "code_sent", r.RemoteAddr)
	}
	http.Redirect(w, r, "/p/"+token+"?sent=1", http.StatusSeeOther)
}

func (s *Service) verify(w http.ResponseWriter, r *http.Request) {
	token, l, ok := s.link(w, r)
	if !ok {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		s.page(w, http.StatusBadRequest, pageVerify, map[string]any{"Action": "/p/" + token,
			"Knowledge": l.KnowledgeKind, "Failed": true})
		return
	}
	ctx := r.Context()
	now := s.now()
	failedPage := func(status int) {
		s.page(w, status, pageVerify, map[string]any{"Action": "/p/" + token,
			"Knowledge": l.KnowledgeKind, "Failed": true})
	}

	// Every attempt is counted before it is checked, atomically with the
	// limit, so concurrent guesses cannot go past it; a successful attempt
	// gives its count back.
	reserved, err := s.db.ReservePortalAttempt(ctx, l.TokenHash, MaxFailures)
	if err != nil {
		s.logger.Error("portal attempt not counted", "err", err)
		s.page(w, http.StatusServiceUnavailable, pageError, nil)
		return
	}
	if !reserved {
		s.page(w, http.StatusForbidden, pageLocked, nil)
		return
	}
	good := l.CodeHash != nil && l.CodeExpiresAt != nil && now.Before(*l.CodeExpiresAt) &&
		sealed.VerifyCode(s.secret, token, r.PostForm.Get("code"), l.CodeHash)
	if good && l.KnowledgeHash != "" {
		release, err := s.acquireSlow(ctx)
		if err != nil {
			return
		}
		match, err := sealed.VerifyKnowledge(l.KnowledgeHash, r.PostForm.Get("knowledge"))
		release()
		good = err == nil && match
	}

	session, hash := sealed.NewToken()
	if good {
		// The code is used up here; of several concurrent verifications of
		// one code only the first gets a session.
		err = s.db.InTx(ctx, func(tx *store.Tx) error {
			used, err := tx.ClearPortalCode(ctx, l.TokenHash, l.CodeHash)
			if err != nil || !used {
				good = false
				return err
			}
			if err := tx.ReleasePortalAttempt(ctx, l.TokenHash); err != nil {
				return err
			}
			return tx.InsertPortalSession(ctx, hash, l.MessageID, now, now.Add(SessionMax))
		})
		if err != nil {
			s.logger.Error("portal session not started", "err", err)
			s.page(w, http.StatusServiceUnavailable, pageError, nil)
			return
		}
	}
	if !good {
		s.record(ctx, l.MessageID, "verify_failed", r.RemoteAddr)
		latest, err := s.db.GetPortalLink(ctx, l.TokenHash)
		if err == nil && latest.FailedAttempts >= MaxFailures {
			if err := s.db.LockPortalLink(ctx, l.TokenHash, now); err != nil {
				s.logger.Error("portal link not locked", "err", err)
			}
			s.record(ctx, l.MessageID, "locked", r.RemoteAddr)
			s.page(w, http.StatusForbidden, pageLocked, nil)
			return
		}
		failedPage(http.StatusUnauthorized)
		return
	}

	s.record(ctx, l.MessageID, "verified", r.RemoteAddr)
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: session, Path: "/p/" + token,
		MaxAge: int(
			SessionMax / time.Second,
		), Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, r, "/p/"+token, http.StatusSeeOther)
}

// SendCodeFunc is the shape of Config.SendCode.
type SendCodeFunc = func(ctx context.Context, linkMessageID, code string) error

var pages = template.Must(template.New("portal").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex, nofollow"><title>Secure message</title></head><body>{{end}}
{{define "foot"}}</body></html>{{end}}
{{define "verify"}}{{template "head"}}<h1>Secure message</h1>
<p>To see this message, confirm it is you. We will email a one-time code to the address the message was sent to.</p>
{{if .Failed}}<p role="alert">That did not match. Check the code{{if .Knowledge}} and your answer{{end}} and try again; after 5 failed tries the link locks.</p>{{end}}
<form method="post" action="{{.Action}}/code"><button type="submit">{{if .Sent}}Send another code{{else}}Email me a code{{end}}</button></form>
{{if .Sent}}<p>A code is on its way. It is valid for 10 minutes.</p>{{end}}
<form method="post" action="{{.Action}}/verify">
<label>One-time code <input name="code" inputmode="numeric" autocomplete="one-time-code" required></label>
{{if eq .Knowledge "dob"}}<label>Your date of birth (YYYY-MM-DD) <input name="knowledge" required></label>{{end}}
{{if eq .Knowledge "zip"}}<label>Your ZIP code <input name="knowledge" inputmode="numeric" required></label>{{end}}
<button type="submit">Show the message</button></form>{{template "foot"}}{{end}}
{{define "content"}}{{template "head"}}<h1>Secure message</h1>
<p>This is shown once. Do not forward it; close this page when you are done.</p>
<table>{{range .Rows}}<tr><th scope="row">{{.Key}}</th><td>{{.Value}}</td></tr>{{end}}</table>{{template "foot"}}{{end}}
{{define "viewed"}}{{template "head"}}<h1>Already shown</h1><p>This message was already shown in this session. To see it again, request a new code from the link in your email.</p>{{template "foot"}}{{end}}
{{define "gone"}}{{template "head"}}<h1>Link not available</h1><p>This link has expired or does not exist. Ask the sender for a new message.</p>{{template "foot"}}{{end}}
{{define "locked"}}{{template "head"}}<h1>Link locked</h1><p>Too many failed attempts. Contact the sender for a new message.</p>{{template "foot"}}{{end}}
{{define "error"}}{{template "head"}}<h1>Try again shortly</h1><p>The message could not be shown right now.</p>{{template "foot"}}{{end}}
`))

const (
	pageVerify  = "verify"
	pageContent = "content"
	pageViewed  = "viewed"
	pageGone    = "gone"
	pageLocked  = "locked"
	pageError   = "error"
)

func (s *Service) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := pages.ExecuteTemplate(w, name, data); err != nil {
		s.logger.Error(
			"portal page failed",
			"page",
			name,
			"err",
			errors.New(strings.SplitN(err.Error(), ":", 2)[0]),
		)
	}
}
