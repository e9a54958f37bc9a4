package api

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/store"
)

type keyBody struct {
	Name  string   `json:"name"`
	Roles []string `json:"roles"`
}

type keyView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Roles     []string   `json:"roles"`
	CreatedAt time.Time  `json:"created_at"`
	RevokedAt *time.Time `json:"revoked_at,omitempty"`
	Key       string     `json:"key,omitempty"` // only in the response that creates it
}

func (s *Server) postKey(w http.ResponseWriter, r *http.Request) {
	body := readBody(w, r, s.limit)
	if body == nil {
		return
	}
	var in keyBody
	if p := decodeStrict(body, &in); p != nil {
		writeProblem(w, p)
		return
	}
	var roles []apikey.Role
	var probs []FieldProblem
	for _, r := range in.Roles {
		parsed, err := apikey.ParseRoles(r)
		if err != nil || len(parsed) != 1 {
			probs = append(probs, FieldProblem{Pointer: "/roles",
				Detail: "each role must be one of sender, marketer, compliance, admin"})
			break
		}
		if !slices.Contains(roles, parsed[0]) {
			roles = append(roles, parsed[0])
		}
	}
	if len(in.Roles) == 0 {
		probs = append(
			probs,
			FieldProblem{Pointer: "/roles", Detail: "at least one role is required"},
		)
	}
	if in.Name == "" || len(in.Name) > 100 {
		probs = append(probs, FieldProblem{Pointer: "/name", Detail: "must be 1 to 100 characters"})
	} else if containsControl(in.Name) {
		probs = append(probs, FieldProblem{Pointer: "/name", Detail: "must be one line without control characters"})
	}
	if len(probs) > 0 {
		writeProblem(w, validationProblem("the key was not created", probs...))
		return
	}
	text, k, err := apikey.Create(r.Context(), s.db, in.Name, roles)
	if err != nil {
		s.logger.Error("create key failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	s.logger.Info("api key created", "key", k, "by", principalFrom(r.Context()).KeyID)
	s.audit(r, audit.Event{Actor: principalFrom(r.Context()).KeyID, Action: "key.created",
		ObjectType: "api_key", ObjectID: k.ID, Details: map[string]string{"roles": strings.Join(k.Roles, ",")}})
	v := viewOfKey(k)
	v.Key = text
	writeJSON(w, http.StatusCreated, v)
}

func containsControl(s string) bool {
	for _, r := range s {
		if isControl(r) {
			return true
		}
	}
	return false
}

func viewOfKey(k *store.APIKey) keyView {
	return keyView{
		ID:        k.ID,
		Name:      k.Name,
		Roles:     k.Roles,
		CreatedAt: k.CreatedAt,
		RevokedAt: k.RevokedAt,
	}
}

func (s *Server) listKeys(w http.ResponseWriter, r *http.Request) {
	keys, err := s.db.ListAPIKeys(r.Context())
	if err != nil {
		s.logger.Error("list keys failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	out := make([]keyView, 0, len(keys))
	for _, k := range keys {
		out = append(out, viewOfKey(k))
	}
	writeJSON(w, http.StatusOK, map[string]any{"keys": out})
}

func (s *Server) revokeKey(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.db.RevokeAPIKey(r.Context(), id, time.Now())
	if errors.Is(err, store.ErrNotFound) {
		writeProblem(w, notFound("no active key has that id"))
		return
	}
	if err != nil {
		s.logger.Error("revoke key failed", "err", err)
		writeProblem(w, internalError())
		return
	}
	s.auth.Forget(id)
	s.audit(r, audit.Event{Actor: principalFrom(r.Context()).KeyID, Action: "key.revoked",
		ObjectType: "api_key", ObjectID: id})
	s.logger.Info("api key revoked", "key_id", id, "by", principalFrom(r.Context()).KeyID)
	w.WriteHeader(http.StatusNoContent)
}
