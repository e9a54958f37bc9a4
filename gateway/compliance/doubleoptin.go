package compliance

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/httpsec"
	"github.com/sealpost/sealpost/gateway/store"
)

// Double opt-in limits.
const (
	// ConfirmationInterval is the least time between two confirmation
	// mails to one address and purpose.
	ConfirmationInterval = 10 * time.Minute
	// ConfirmationTTL is how long a confirmation link works.
	ConfirmationTTL = 72 * time.Hour
)

// ErrTooSoon means a confirmation mail went to this address and purpose
// less than ConfirmationInterval ago.
var ErrTooSoon = errors.New("a confirmation was sent recently")

// SendConfirmation mails a confirmation link to an address; the gateway
// wires it to the delivery pipeline.
type SendConfirmation func(ctx context.Context, email, confirmURL string) error

// RequestConsent starts double opt-in: it records the request with its
// evidence and mails a signed, expiring confirmation link. An address that
// already has consent for the purpose is left unchanged and gets no mail,
// and the caller answers exactly as for a new request, so the response
// reveals nothing. A second request within ConfirmationInterval returns
// ErrTooSoon.
func (s *Service) RequestConsent(
	ctx context.Context,
	e *store.ConsentEvent,
	send SendConfirmation,
) error {
	key, err := Normalize(e.Address)
	if err != nil {
		return err
	}
	if ok, err := s.HasConsent(ctx, key, e.Purpose); err != nil || ok {
		return err
	}
	last, err := s.db.LatestConsentRequest(ctx, key, e.Purpose)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if last != nil && s.now().Sub(last.CreatedAt) < ConfirmationInterval {
		return ErrTooSoon
	}
	e.Action = "request"
	err = s.db.InTx(ctx, func(tx *store.Tx) error { return s.RecordConsent(ctx, tx, e) })
	if err != nil {
		return err
	}
	return send(ctx, key, s.baseURL+"/c/"+s.confirmToken(e.ID, s.now().Add(ConfirmationTTL)))
}

func (s *Service) confirmToken(requestID string, expires time.Time) string {
	body := requestID + "." + strconv.FormatInt(expires.Unix(), 10)
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("sealpost consent confirmation v1\x00"))
	m.Write([]byte(body))
	return base64.RawURLEncoding.EncodeToString([]byte(body)) + "." +
		base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// requestOf checks a confirmation token and returns the request id.
func (s *Service) requestOf(token string) (string, bool) {
	bodyPart, _, ok := strings.Cut(token, ".")
	if !ok || len(token) > 200 || len(s.secret) < 32 {
		return "", false
	}
	raw, err := base64.RawURLEncoding.DecodeString(bodyPart)
	if err != nil {
		return "", false
	}
	id, exp, ok := strings.Cut(string(raw), ".")
	unix, err := strconv.ParseInt(exp, 10, 64)
	if !ok || err != nil {
		return "", false
	}
	expires := time.Unix(unix, 0)
	if !hmac.Equal([]byte(s.confirmToken(id, expires)), []byte(token)) || !s.now().Before(expires) {
		return "", false
	}
	return id, true
}

// ConfirmHandler serves GET /c/{token} (a page with a button; changes
// nothing, so link scanners cannot confirm) and POST /c/{token} (records
// the confirmation with its evidence).
func (s *Service) ConfirmHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /c/{token}", func(w http.ResponseWriter, r *http.Request) {
		token := r.PathValue("token")
		if _, ok := s.requestOf(token); !ok {
			s.page(w, http.StatusNotFound, "cgone", nil)
			return
		}
		s.page(w, http.StatusOK, "cconfirm", map[string]string{"Action": "/c/" + token})
	})
	mux.HandleFunc("POST /c/{token}", s.confirm)
	return httpsec.Pages(mux)
}

func (s *Service) confirm(w http.ResponseWriter, r *http.Request) {
	id, ok := s.requestOf(r.PathValue("token"))
	if !ok {
		s.page(w, http.StatusNotFound, "cgone", nil)
		return
	}
	ctx := r.Context()
	req, err := s.db.GetConsentEvent(ctx, id)
	if err != nil || req.Action != "request" {
		s.page(w, http.StatusNotFound, "cgone", nil)
		return
	}
	if has, err := s.HasConsent(ctx, req.Address, req.Purpose); err == nil && has {
		s.page(w, http.StatusOK, "cdone", nil) // already confirmed: nothing changes
		return
	}
	err = s.db.InTx(ctx, func(tx *store.Tx) error {
		return s.RecordConsent(
			ctx,
			tx,
			&store.ConsentEvent{Address: req.Address, Purpose: req.Purpose,
				Action: "confirm", Source: req.Source, WordingVersion: req.WordingVersion,
				WordingHash: req.WordingHash, RemoteAddr: clientaddr.Truncate(r.RemoteAddr),
				UserAgent: limit(r.UserAgent(), 200), Actor: "recipient"},
		)
	})
	if err != nil {
		s.logger.Error("confirmation not recorded", "err", err)
		s.page(w, http.StatusServiceUnavailable, "error", nil)
		return
	}
	s.page(w, http.StatusOK, "cdone", nil)
}
