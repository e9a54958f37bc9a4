package webhook_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/webhook"
)

// receiver is a commerce backend's endpoint: it verifies each request with
// its secret and answers 204, or 401 when the signature does not verify.
type receiver struct {
	srv    *httptest.Server
	secret []byte

	mu       sync.Mutex
	accepted []webhook.Event
	refused  []error
}

func newReceiver(t *testing.T, secret []byte) *receiver {
	t.Helper()

	rc := &receiver{secret: secret}
	rc.srv = httptest.NewServer(http.HandlerFunc(rc.serve))
	t.Cleanup(rc.srv.Close)

	return rc
}

func (rc *receiver) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(io.LimitReader(r.Body, 1<<16))
	if err == nil {
		err = webhook.Verify(rc.secret, r.Header.Get(webhook.HeaderSignature), body,
			time.Now(), 0)
	}

	var e webhook.Event
	if err == nil {
		err = json.Unmarshal(body, &e)
	}

	if err == nil && (r.Method != http.MethodPost ||
		r.Header.Get("Content-Type") != webhook.ContentType ||
		r.Header.Get(webhook.HeaderEventID) != e.ID) {
		err = errors.New("request headers do not match the event")
	}

	rc.mu.Lock()
	defer rc.mu.Unlock()

	if err != nil {
		rc.refused = append(rc.refused, err)
		w.WriteHeader(http.StatusUnauthorized)

		return
	}

	rc.accepted = append(rc.accepted, e)
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) results() ([]webhook.Event, []error) {
	rc.mu.Lock()
	defer rc.mu.Unlock()

	return append([]webhook.Event{}, rc.accepted...), append([]error{}, rc.refused...)
}

func newSender(t *testing.T, url string, secrets webhook.Secrets, client *http.Client,
) *webhook.Sender {
	t.Helper()

	s, err := webhook.NewSender(url, secrets, client, nil)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}

	return s
}

func TestSendReceiverVerifies(t *testing.T) {
	t.Parallel()

	secret := testSecret(1)
	rc := newReceiver(t, secret)
	s := newSender(t, rc.srv.URL+"/hooks/sealpost", webhook.Secrets{Current: secret}, nil)

	e := testEvent()
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("Send: %v", err)
	}

	// A retry carries the same event id, so the receiver can de-duplicate.
	if err := s.Send(context.Background(), e); err != nil {
		t.Fatalf("second Send: %v", err)
	}

	accepted, refused := rc.results()
	if len(refused) != 0 || len(accepted) != 2 {
		t.Fatalf("receiver accepted %d, refused %v", len(accepted), refused)
	}

	if accepted[0] != accepted[1] || accepted[0].ID != e.ID || accepted[0].Reason != e.Reason ||
		!accepted[0].OccurredAt.Equal(e.OccurredAt) {
		t.Fatalf("receiver got %+v, want %+v", accepted[0], e)
	}
}

func TestSendRotation(t *testing.T) {
	t.Parallel()

	oldKey, newKey, otherKey := testSecret(1), testSecret(100), testSecret(200)
	rotating := webhook.Secrets{Current: newKey, Previous: oldKey}

	tests := []struct {
		name     string
		receiver []byte
		secrets  webhook.Secrets
		accepted bool
	}{
		{"receiver still on the previous secret", oldKey, rotating, true},
		{"receiver moved to the current secret", newKey, rotating, true},
		{"receiver on an unrelated secret", otherKey, rotating, false},
		{"previous secret dropped", oldKey, webhook.Secrets{Current: newKey}, false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			rc := newReceiver(t, tt.receiver)
			s := newSender(t, rc.srv.URL, tt.secrets, nil)

			err := s.Send(context.Background(), testEvent())
			accepted, _ := rc.results()

			if tt.accepted {
				if err != nil || len(accepted) != 1 {
					t.Fatalf("Send = %v, receiver accepted %d", err, len(accepted))
				}

				return
			}

			var perm *webhook.PermanentError
			if !errors.As(err, &perm) || perm.StatusCode != http.StatusUnauthorized {
				t.Fatalf("Send = %v, want a permanent 401", err)
			}
		})
	}
}

// statusServer answers the status named in the "status" query parameter,
// with a body that must never reach an error string; "/moved" redirects to
// "/landed", which counts its hits; "/slow" answers only once the client has
// gone.
type statusServer struct {
	srv     *httptest.Server
	hits    atomic.Int64
	landed  atomic.Int64
	bodyTag string
}

func newStatusServer(t *testing.T) *statusServer {
	t.Helper()

	ss := &statusServer{bodyTag: "canary-body-9a2"}
	ss.srv = httptest.NewServer(http.HandlerFunc(ss.serve))
	t.Cleanup(ss.srv.Close)

	return ss
}

func (ss *statusServer) serve(w http.ResponseWriter, r *http.Request) {
	ss.hits.Add(1)
	_, _ = io.Copy(io.Discard, r.Body)

	switch r.URL.Path {
	case "/landed":
		ss.landed.Add(1)
		w.WriteHeader(http.StatusOK)
	case "/moved":
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		http.Redirect(w, r, "/landed", code)
	case "/slow":
		<-r.Context().Done()
	case "/large":
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(bytes.Repeat([]byte(ss.bodyTag), 1<<16))
	default:
		code, _ := strconv.Atoi(r.URL.Query().Get("status"))
		w.WriteHeader(code)
		_, _ = io.WriteString(w, ss.bodyTag+" details for "+r.URL.RawQuery)
	}
}

func TestSendClassification(t *testing.T) {
	t.Parallel()

	ss := newStatusServer(t)

	const (
		ok        = "ok"
		permanent = "permanent"
		temporary = "temporary"
	)

	tests := []struct {
		name string
		path string
		code int
		want string
		is   error
	}{
		{"200", "/", 200, ok, nil},
		{"202", "/", 202, ok, nil},
		{"204", "/", 204, ok, nil},
		{"200 with large body", "/large", 0, ok, nil},
		{"301 not followed", "/moved", 301, temporary, webhook.ErrUnexpectedStatus},
		{"302 not followed", "/moved", 302, temporary, webhook.ErrUnexpectedStatus},
		{"307 not followed", "/moved", 307, temporary, webhook.ErrUnexpectedStatus},
		{"308 not followed", "/moved", 308, temporary, webhook.ErrUnexpectedStatus},
		{"400", "/", 400, permanent, webhook.ErrRejected},
		{"401", "/", 401, permanent, webhook.ErrRejected},
		{"404", "/", 404, permanent, webhook.ErrRejected},
		{"410", "/", 410, permanent, webhook.ErrRejected},
		{"422", "/", 422, permanent, webhook.ErrRejected},
		{"408", "/", 408, temporary, webhook.ErrUnexpectedStatus},
		{"429", "/", 429, temporary, webhook.ErrUnexpectedStatus},
		{"500", "/", 500, temporary, webhook.ErrUnexpectedStatus},
		{"502", "/", 502, temporary, webhook.ErrUnexpectedStatus},
		{"503", "/", 503, temporary, webhook.ErrUnexpectedStatus},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			url := ss.srv.URL + tt.path + "?status=" + strconv.Itoa(tt.code) +
				"&token=canary-query-5e1"
			s := newSender(t, url, webhook.Secrets{Current: testSecret(1)}, nil)

			err := s.Send(context.Background(), testEvent())

			switch tt.want {
			case ok:
				if err != nil {
					t.Fatalf("Send: %v", err)
				}

				return
			case permanent:
				var perm *webhook.PermanentError
				if !errors.As(err, &perm) || perm.StatusCode != tt.code {
					t.Fatalf("Send = %v, want a permanent %d", err, tt.code)
				}
			case temporary:
				if webhook.IsPermanent(err) {
					t.Fatalf("Send = %v, want a temporary error", err)
				}
			}

			if !errors.Is(err, tt.is) {
				t.Fatalf("Send = %v, want %v", err, tt.is)
			}

			if !strings.Contains(err.Error(), strconv.Itoa(tt.code)) {
				t.Fatalf("error %q does not name the status", err)
			}

			if strings.Contains(err.Error(), "canary") {
				t.Fatalf("error leaks the query or body: %v", err)
			}
		})
	}

	if n := ss.landed.Load(); n != 0 {
		t.Fatalf("a redirect was followed %d times", n)
	}
}

// TestSendRedirectNotFollowedWithCallerPolicy checks that a client whose own
// policy follows redirects is not changed, and that Send still stops.
func TestSendRedirectNotFollowedWithCallerPolicy(t *testing.T) {
	t.Parallel()

	ss := newStatusServer(t)
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error {
		return nil
	}}

	s := newSender(t, ss.srv.URL+"/moved?status=302", webhook.Secrets{Current: testSecret(1)},
		client)

	if err := s.Send(context.Background(), testEvent()); !errors.Is(err,
		webhook.ErrUnexpectedStatus) {
		t.Fatalf("Send = %v, want ErrUnexpectedStatus", err)
	}

	if ss.landed.Load() != 0 || ss.hits.Load() != 1 {
		t.Fatalf("redirect followed: %d hits, %d landed", ss.hits.Load(), ss.landed.Load())
	}

	if client.CheckRedirect(nil, nil) != nil {
		t.Fatalf("the caller's client was changed")
	}
}

func TestSendTimeouts(t *testing.T) {
	t.Parallel()

	ss := newStatusServer(t)
	url := ss.srv.URL + "/slow?token=canary-query-5e1"
	secrets := webhook.Secrets{Current: testSecret(1)}

	t.Run("client timeout", func(t *testing.T) {
		t.Parallel()

		s := newSender(t, url, secrets, &http.Client{Timeout: 150 * time.Millisecond})

		err := s.Send(context.Background(), testEvent())
		if !errors.Is(err, webhook.ErrTimeout) || webhook.IsPermanent(err) {
			t.Fatalf("Send = %v, want a temporary ErrTimeout", err)
		}

		if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "/slow") {
			t.Fatalf("error leaks the URL: %v", err)
		}
	})

	t.Run("context deadline", func(t *testing.T) {
		t.Parallel()

		s := newSender(t, url, secrets, nil)

		ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
		defer cancel()

		err := s.Send(ctx, testEvent())
		if !errors.Is(err, webhook.ErrTimeout) || webhook.IsPermanent(err) {
			t.Fatalf("Send = %v, want a temporary ErrTimeout", err)
		}
	})

	t.Run("context cancelled", func(t *testing.T) {
		t.Parallel()

		s := newSender(t, url, secrets, nil)

		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(100*time.Millisecond, cancel)

		err := s.Send(ctx, testEvent())
		if !errors.Is(err, context.Canceled) || errors.Is(err, webhook.ErrTimeout) ||
			webhook.IsPermanent(err) {
			t.Fatalf("Send = %v, want context.Canceled", err)
		}

		if strings.Contains(err.Error(), "canary") {
			t.Fatalf("error leaks the URL: %v", err)
		}
	})
}

func TestSendConnectionRefused(t *testing.T) {
	t.Parallel()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}

	addr := ln.Addr().String()
	_ = ln.Close()

	s := newSender(t, "http://"+addr+"/hooks?token=canary-query-5e1",
		webhook.Secrets{Current: testSecret(1)}, nil)

	err = s.Send(context.Background(), testEvent())
	if !errors.Is(err, webhook.ErrConnection) || webhook.IsPermanent(err) {
		t.Fatalf("Send = %v, want a temporary ErrConnection", err)
	}

	if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "/hooks") {
		t.Fatalf("error leaks the URL: %v", err)
	}
}

func TestSendTLS(t *testing.T) {
	t.Parallel()

	secret := testSecret(1)
	rc := &receiver{secret: secret}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(rc.serve))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshake is expected
	srv.StartTLS()
	t.Cleanup(srv.Close)

	// The two cases share the receiver's count, so they run in order.
	t.Run("trusted certificate", func(t *testing.T) {
		s := newSender(t, srv.URL, webhook.Secrets{Current: secret}, srv.Client())
		if err := s.Send(context.Background(), testEvent()); err != nil {
			t.Fatalf("Send: %v", err)
		}

		if accepted, _ := rc.results(); len(accepted) != 1 {
			t.Fatalf("receiver accepted %d events", len(accepted))
		}
	})

	t.Run("untrusted certificate", func(t *testing.T) {
		transport := &http.Transport{}
		t.Cleanup(transport.CloseIdleConnections)

		s := newSender(t, srv.URL, webhook.Secrets{Current: secret},
			&http.Client{Transport: transport})

		err := s.Send(context.Background(), testEvent())
		if !errors.Is(err, webhook.ErrConnection) || webhook.IsPermanent(err) {
			t.Fatalf("Send = %v, want a temporary ErrConnection", err)
		}

		if accepted, _ := rc.results(); len(accepted) != 1 {
			t.Fatalf("an event reached the receiver over untrusted TLS")
		}
	})
}

func TestSendInvalidEventIsPermanent(t *testing.T) {
	t.Parallel()

	ss := newStatusServer(t)
	s := newSender(t, ss.srv.URL+"/?status=200", webhook.Secrets{Current: testSecret(1)}, nil)

	e := testEvent()
	e.Reason = "bounce for canary-77@patient.example"

	err := s.Send(context.Background(), e)

	var perm *webhook.PermanentError
	if !errors.As(err, &perm) || perm.StatusCode != 0 || !errors.Is(err, webhook.ErrInvalidEvent) {
		t.Fatalf("Send = %v, want a permanent ErrInvalidEvent", err)
	}

	if strings.Contains(err.Error(), "canary") {
		t.Fatalf("error leaks the reason: %v", err)
	}

	if ss.hits.Load() != 0 {
		t.Fatalf("an invalid event was sent")
	}
}

func TestSendLogs(t *testing.T) {
	t.Parallel()

	secret := []byte("canary-secret-0123456789abcdefghij")
	rc := newReceiver(t, secret)

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))

	s, err := webhook.NewSender(rc.srv.URL+"/hooks/canary-path?token=canary-query",
		webhook.Secrets{Current: secret}, nil, logger)
	if err != nil {
		t.Fatalf("NewSender: %v", err)
	}

	if err := s.Send(context.Background(), testEvent()); err != nil {
		t.Fatalf("Send: %v", err)
	}

	logger.Info("sender", slog.Any("sender", s))

	out := logs.String()
	if !strings.Contains(out, "webhook delivered") || !strings.Contains(out, testEvent().ID) {
		t.Fatalf("no delivery line in logs: %s", out)
	}

	if strings.Contains(out, "canary") {
		t.Fatalf("logs leak the URL path, query or secret: %s", out)
	}
}

func TestNewSenderURL(t *testing.T) {
	t.Parallel()

	tests := []struct {
		name string
		url  string
		ok   bool
	}{
		{"https", "https://hooks.example.test/sealpost", true},
		{"https with port and query", "https://hooks.example.test:8443/x?token=abc", true},
		{"upper-case scheme", "HTTPS://hooks.example.test/", true},
		{"http on 127.0.0.1", "http://127.0.0.1:8080/hooks", true},
		{"http on 127.1.2.3", "http://127.1.2.3/", true},
		{"http on localhost", "http://localhost:9000/", true},
		{"http on LOCALHOST.", "http://LOCALHOST./", true},
		{"http on ::1", "http://[::1]:8080/", true},
		{"http on a public name", "http://hooks.example.test/", false},
		{"http on a private address", "http://10.0.0.1/", false},
		{"http on the unspecified address", "http://0.0.0.0/", false},
		{"http on ::2", "http://[::2]/", false},
		{"http on a name starting 127", "http://127.0.0.1.example.test/", false},
		{"http on a name ending localhost", "http://localhost.example.test/", false},
		{"userinfo hiding the host", "http://127.0.0.1@hooks.example.test/", false},
		{"https with userinfo", "https://user:canary-pass@hooks.example.test/", false},
		{"https with user only", "https://canary-user@hooks.example.test/", false},
		{"fragment", "https://hooks.example.test/#canary", false},
		{"port out of range", "https://hooks.example.test:99999/", false},
		{"ftp", "ftp://hooks.example.test/", false},
		{"no scheme", "hooks.example.test/hooks", false},
		{"opaque", "https:hooks.example.test", false},
		{"no host", "https:///hooks", false},
		{"empty", "", false},
		{"control character", "https://hooks.example.test/\ncanary", false},
	}

	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()

			s, err := webhook.NewSender(tt.url, webhook.Secrets{Current: testSecret(1)}, nil, nil)
			if tt.ok {
				if err != nil || s == nil {
					t.Fatalf("NewSender: %v", err)
				}

				return
			}

			if !errors.Is(err, webhook.ErrInvalidURL) {
				t.Fatalf("NewSender = %v, want ErrInvalidURL", err)
			}

			if strings.Contains(err.Error(), "canary") || strings.Contains(err.Error(), "example") {
				t.Fatalf("error repeats the URL: %v", err)
			}
		})
	}
}

func TestNewSenderNeedsSecret(t *testing.T) {
	t.Parallel()

	_, err := webhook.NewSender("https://hooks.example.test/", webhook.Secrets{}, nil, nil)
	if !errors.Is(err, webhook.ErrInvalidSecret) {
		t.Fatalf("NewSender = %v, want ErrInvalidSecret", err)
	}
}
