package compliance

import (
	"errors"
	"html/template"
	"net/http"

	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/httpsec"
	"github.com/sealpost/sealpost/gateway/store"
)

// Handler serves one-click unsubscribe (RFC 8058):
//
//   - POST /u/{token} with List-Unsubscribe=One-Click (what mail clients send,
//     without cookies) unsubscribes at once and says so;
//   - GET /u/{token} (what a person or a link scanner opens) shows a page
//     with a button and changes nothing.
//
// A token that does not verify, or whose message is gone, gets the same
// "not available" page; it never reports success for a change it did not make.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /u/{token}", s.confirmPage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	return httpsec.Pages(mux)
}

func (s *Service) confirmPage(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	if _, ok := s.messageOf(token); !ok {
		s.page(w, http.StatusNotFound, "gone", nil)
		return
	}
	s.page(w, http.StatusOK, "confirm", map[string]string{"Action": "/u/" + token})
}

func (s *Service) unsubscribe(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	messageID, ok := s.messageOf(token)
	if !ok {
		s.page(w, http.StatusNotFound, "gone", nil)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1024)
	_ = r.ParseForm() // the body is List-Unsubscribe=One-Click or the page's form; either means yes
	ctx := r.Context()
	m, err := s.db.GetMessage(ctx, messageID)
	if errors.Is(err, store.ErrNotFound) {
		s.page(w, http.StatusNotFound, "gone", nil)
		return
	}
	if err != nil {
		s.page(w, http.StatusServiceUnavailable, "error", nil)
		return
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		if _, err := s.Suppress(ctx, tx, m.Recipient, ScopeMarketing, ReasonUnsubscribe,
			"one-click", m.ID, "recipient"); err != nil {
			return err
		}
		latest, err := tx.LatestConsent(ctx, mustNormalize(m.Recipient), PurposeMarketing)
		if err == nil && latest.Action == "withdraw" {
			return nil // already withdrawn: the history keeps the first one
		}
		return s.RecordConsent(ctx, tx, &store.ConsentEvent{Address: m.Recipient,
			Purpose: PurposeMarketing, Action: "withdraw", Source: "unsubscribe",
			RemoteAddr: clientaddr.Truncate(r.RemoteAddr), UserAgent: limit(r.UserAgent(), 200),
			Actor: "recipient"})
	})
	if err != nil {
		s.logger.Error("unsubscribe not recorded", "message_id", m.ID, "err", err)
		s.page(w, http.StatusServiceUnavailable, "error", nil)
		return
	}
	s.logger.Info("unsubscribed", "message_id", m.ID)
	s.page(w, http.StatusOK, "done", nil)
}

func limit(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

var pages = template.Must(template.New("u").Parse(`
{{define "head"}}<!doctype html><html lang="en"><head><meta charset="utf-8">
<meta name="robots" content="noindex"><title>Unsubscribe</title></head><body>{{end}}
{{define "confirm"}}{{template "head"}}<h1>Unsubscribe</h1>
<p>Stop marketing email to this address? Order and account messages will still arrive.</p>
<form method="post" action="{{.Action}}"><input type="hidden" name="List-Unsubscribe" value="One-Click">
<button type="submit">Unsubscribe</button></form></body></html>{{end}}
{{define "done"}}{{template "head"}}<h1>Unsubscribed</h1>
<p>You will not receive marketing email at this address any more.</p></body></html>{{end}}
{{define "gone"}}{{template "head"}}<h1>Link not available</h1>
<p>This unsubscribe link is not valid.</p></body></html>{{end}}
{{define "error"}}{{template "head"}}<h1>Try again shortly</h1>
<p>Nothing was changed.</p></body></html>{{end}}
{{define "cconfirm"}}{{template "head"}}<h1>Confirm your subscription</h1>
<p>Press the button to confirm that you want to receive offers by email.</p>
<form method="post" action="{{.Action}}"><button type="submit">Confirm</button></form></body></html>{{end}}
{{define "cdone"}}{{template "head"}}<h1>Confirmed</h1>
<p>Thank you. Every offer email has a one-click unsubscribe link.</p></body></html>{{end}}
{{define "cgone"}}{{template "head"}}<h1>Link not available</h1>
<p>This confirmation link is not valid or has expired.</p></body></html>{{end}}
`))

func (s *Service) page(w http.ResponseWriter, status int, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_ = pages.ExecuteTemplate(w, name, data)
}

// mustNormalize normalises an address already validated when its message
// was accepted; it returns the input unchanged if that ever fails.
func mustNormalize(email string) string {
	key, err := Normalize(email)
	if err != nil {
		return email
	}
	return key
}
