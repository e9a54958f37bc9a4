package webhook

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Sender defaults.
const (
	// DefaultTimeout bounds one attempt, from dialling to reading the answer,
	// unless the client passed to NewSender sets a shorter Timeout.
	DefaultTimeout = 10 * time.Second

	// ResponseBodyLimit is how much of an answer's body is read (so the
	// connection can be reused) before it is discarded unseen.
	ResponseBodyLimit = 4 << 10

	userAgent = "Sealpost-Webhook/1"
)

// Sender posts signed events to one endpoint, one attempt per Send. It is
// safe for concurrent use.
type Sender struct {
	url      string
	scheme   string
	host     string
	path     string
	rawQuery string
	secrets  Secrets
	client   *http.Client
	timeout  time.Duration
	logger   *slog.Logger
}

// NewSender returns a Sender for the endpoint rawURL. The URL must be https;
// plain http is allowed only for loopback hosts (127.0.0.0/8, ::1,
// localhost). A URL with user information or a fragment is refused.
// secrets.Current must be set.
//
// client may be nil to use http.DefaultTransport. The Sender works on
// a copy of client that never follows redirects and keeps no cookies. The
// attempt timeout is client.Timeout when set and shorter than
// DefaultTimeout, otherwise DefaultTimeout. A nil logger discards.
func NewSender(
	rawURL string, secrets Secrets, client *http.Client, logger *slog.Logger,
) (*Sender, error) {
	u, err := checkURL(rawURL)
	if err != nil {
		return nil, err
	}

	if len(secrets.Current) == 0 {
		return nil, fmt.Errorf("%w: no current secret", ErrInvalidSecret)
	}

	var c http.Client
	if client != nil {
		c = *client
	}

	c.CheckRedirect = func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}
	c.Jar = nil

	timeout := DefaultTimeout
	if c.Timeout > 0 && c.Timeout < timeout {
		timeout = c.Timeout
	}

	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}

	return &Sender{
		url:      u.String(),
		scheme:   u.Scheme,
		host:     u.Host,
		path:     u.EscapedPath(),
		rawQuery: u.RawQuery,
		secrets:  secrets,
		client:   &c,
		timeout:  timeout,
		logger:   logger,
	}, nil
}

// checkURL parses and vets the endpoint. Its errors never repeat the URL,
// which may carry a token in its query.
func checkURL(rawURL string) (*url.URL, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("%w: does not parse", ErrInvalidURL)
	}

	if u.Opaque != "" || u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%w: no host", ErrInvalidURL)
	}

	if u.User != nil {
		return nil, fmt.Errorf("%w: user information not allowed", ErrInvalidURL)
	}

	if u.Fragment != "" || strings.Contains(rawURL, "#") {
		return nil, fmt.Errorf("%w: fragment not allowed", ErrInvalidURL)
	}

	if port := u.Port(); port != "" {
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w: bad port", ErrInvalidURL)
		}
	}

	switch u.Scheme {
	case "https":
	case "http":
		if !isLoopbackHost(u.Hostname()) {
			return nil, fmt.Errorf("%w: plain http only for loopback hosts", ErrInvalidURL)
		}
	default:
		return nil, fmt.Errorf("%w: scheme must be https", ErrInvalidURL)
	}

	return u, nil
}

// isLoopbackHost reports whether host is "localhost" or an address in
// 127.0.0.0/8 or ::1. Names that merely start with "127." or end in
// "localhost" are not loopback: they resolve wherever DNS says.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}

	ip := net.ParseIP(host)

	return ip != nil && ip.IsLoopback()
}

// LogValue implements slog.LogValuer: the endpoint's scheme and host, never
// its path, query or the secrets.
func (s *Sender) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("scheme", s.scheme),
		slog.String("host", s.host),
	)
}

// Send makes one attempt to deliver e. A 2xx answer returns nil. A 4xx
// answer other than 408 and 429, or an invalid event, returns a
// [*PermanentError]. Anything else (1xx, 3xx, 408, 429, 5xx, a network
// error, the attempt timing out) returns a temporary error wrapping
// [ErrUnexpectedStatus], [ErrConnection] or [ErrTimeout], or ctx's error when
// ctx was cancelled. Errors never include the URL's query or the answer's
// body.
func (s *Sender) Send(ctx context.Context, e Event) error {
	body, err := Encode(e)
	if err != nil {
		return &PermanentError{Err: err}
	}

	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()

	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.url, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Err: fmt.Errorf("%w: request not built", ErrInvalidURL)}
	}

	req.Header.Set("Content-Type", ContentType)
	req.Header.Set("User-Agent", userAgent)
	req.Header.Set(HeaderEventID, e.ID)
	req.Header.Set(HeaderSignature, Sign(s.secrets, time.Now(), body))

	start := time.Now()

	resp, err := s.client.Do(req)
	if err != nil {
		return s.transportError(ctx, err)
	}

	// The body is never looked at; a failure to read it changes nothing.
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, ResponseBodyLimit))
	_ = resp.Body.Close()

	code := resp.StatusCode

	switch {
	case code >= 200 && code < 300:
		s.logger.InfoContext(ctx, "webhook delivered",
			slog.Any("event", e), slog.Any("endpoint", s),
			slog.Int("status_code", code), slog.Duration("duration", time.Since(start)))

		return nil
	case code >= 400 && code < 500 && code != http.StatusRequestTimeout &&
		code != http.StatusTooManyRequests:
		return &PermanentError{StatusCode: code, Err: ErrRejected}
	default:
		return fmt.Errorf("%w: status %d", ErrUnexpectedStatus, code)
	}
}

// transportError classifies a failed round trip. The *url.Error from
// net/http names the full URL, query included, so only its cause is kept, and
// even that is dropped if its text still mentions the URL.
func (s *Sender) transportError(ctx context.Context, err error) error {
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("send webhook: %w", context.Canceled)
	}

	var urlErr *url.Error
	if errors.As(err, &urlErr) {
		err = urlErr.Err
	}

	var netErr net.Error
	if errors.Is(err, context.DeadlineExceeded) || errors.As(err, &netErr) && netErr.Timeout() {
		return ErrTimeout
	}

	if err == nil || s.mentionsURL(err.Error()) {
		return ErrConnection
	}

	return fmt.Errorf("%w: %w", ErrConnection, err)
}

// mentionsURL reports whether text contains the endpoint's path or query.
func (s *Sender) mentionsURL(text string) bool {
	return strings.Contains(text, s.url) ||
		s.path != "" && s.path != "/" && strings.Contains(text, s.path) ||
		s.rawQuery != "" && strings.Contains(text, s.rawQuery)
}
