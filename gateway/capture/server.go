package capture

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Defaults for the capture server.
const (
	// DefaultMaxMessageBytes caps one message. RFC 5321 §4.5.3.1.7 sets a
	// floor of 64 KiB; 10 MiB covers any transactional message.
	DefaultMaxMessageBytes = 10 << 20
	// DefaultMaxRecipients caps recipients per message, the floor set by
	// RFC 5321 §4.5.3.1.8.
	DefaultMaxRecipients = 100
	// DefaultTimeout bounds each read and write on a client connection.
	DefaultTimeout = time.Minute
	// Domain is the name the server greets with.
	Domain = "sealpost-capture.localhost"
)

// Server is the capture SMTP server. Set the exported fields before Serve.
type Server struct {
	// Discard counts messages (see Received) without storing them.
	Discard bool
	// MaxMessageBytes defaults to DefaultMaxMessageBytes.
	MaxMessageBytes int64
	// MaxRecipients defaults to DefaultMaxRecipients.
	MaxRecipients int

	dir    string
	logger *slog.Logger
	smtp   *smtp.Server

	received atomic.Int64

	mu       sync.Mutex
	listener net.Listener
}

// New returns a capture server storing messages in dir (created with mode
// 0700 if missing) and offering STARTTLS with tlsCert. dir may be empty
// only for a server that will run with Discard.
func New(dir string, tlsCert tls.Certificate, logger *slog.Logger) (*Server, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if dir != "" {
		if err := os.MkdirAll(dir, dirMode); err != nil {
			return nil, fmt.Errorf("create inbox: %w", err)
		}
	}

	s := &Server{dir: dir, logger: logger}
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = Domain
	srv.ReadTimeout = DefaultTimeout
	srv.WriteTimeout = DefaultTimeout
	srv.TLSConfig = &tls.Config{
		Certificates: []tls.Certificate{tlsCert},
		MinVersion:   tls.VersionTLS12,
	}
	srv.ErrorLog = errorLog{logger}
	s.smtp = srv
	return s, nil
}

// ListenAndServe listens on addr, which must be a loopback address such as
// "127.0.0.1:2525", and serves until Close or Shutdown.
func (s *Server) ListenAndServe(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("parse listen address: %w", err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return ErrNotLoopback
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	return s.Serve(l)
}

// Serve accepts connections on l until Close or Shutdown, then returns nil.
func (s *Server) Serve(l net.Listener) error {
	if s.dir == "" && !s.Discard {
		_ = l.Close()
		return ErrNoDir
	}

	s.mu.Lock()
	s.listener = l
	s.smtp.MaxMessageBytes = s.MaxMessageBytes
	if s.smtp.MaxMessageBytes <= 0 {
		s.smtp.MaxMessageBytes = DefaultMaxMessageBytes
	}
	s.smtp.MaxRecipients = s.MaxRecipients
	if s.smtp.MaxRecipients <= 0 {
		s.smtp.MaxRecipients = DefaultMaxRecipients
	}
	s.mu.Unlock()

	s.logger.Info("capture server listening", "addr", l.Addr().String(), "discard", s.Discard)
	if err := s.smtp.Serve(l); err != nil {
		return fmt.Errorf("serve: %w", err)
	}
	return nil
}

// Addr returns the listening address, or nil before Serve.
func (s *Server) Addr() net.Addr {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.listener == nil {
		return nil
	}
	return s.listener.Addr()
}

// Close stops listening and closes every connection at once.
func (s *Server) Close() error {
	return s.smtp.Close()
}

// Shutdown stops listening and waits for open connections to end, or for
// ctx to expire.
func (s *Server) Shutdown(ctx context.Context) error {
	return s.smtp.Shutdown(ctx)
}

// Received returns how many messages the server accepted since it started,
// stored or discarded.
func (s *Server) Received() int64 {
	return s.received.Load()
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// errRequireTLS is the reply to MAIL before STARTTLS (RFC 3207 §4).
var errRequireTLS = &smtp.SMTPError{
	Code:         530,
	EnhancedCode: smtp.EnhancedCode{5, 7, 0},
	Message:      "Must issue a STARTTLS command first",
}

// session is one SMTP session; go-smtp calls it from one goroutine.
type session struct {
	s    *Server
	conn *smtp.Conn
	from string
	to   []string
}

// AuthMechanisms offers PLAIN, which go-smtp offers only after STARTTLS,
// so a relay configured with credentials works against the inbox.
func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

// Auth accepts any credentials: the inbox is local and takes everything.
func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(string, string, string) error { return nil }), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	if _, ok := ss.conn.TLSConnectionState(); !ok {
		return errRequireTLS
	}
	ss.from = from
	ss.to = nil
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	if ss.s.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		ss.s.received.Add(1)
		return nil
	}

	var buf bytes.Buffer
	if _, err := buf.ReadFrom(r); err != nil {
		// go-smtp's size limit surfaces here as its own 552 reply.
		return err
	}
	now := time.Now()
	id, err := newID(now)
	if err != nil {
		return err
	}
	state, _ := ss.conn.TLSConnectionState()
	it := Item{
		ID:         id,
		From:       ss.from,
		To:         append([]string(nil), ss.to...),
		Subject:    subject(buf.Bytes()),
		ReceivedAt: now.UTC(),
		TLSVersion: tls.VersionName(state.Version),
		Size:       buf.Len(),
	}
	if err := ss.s.store(it, buf.Bytes()); err != nil {
		ss.s.logger.Error("capture store failed", "err", err)
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
			Message: "Could not store message"}
	}

	ss.s.received.Add(1)
	ss.s.logger.Info("message captured", "item", it)
	return nil
}

func (ss *session) Reset() {
	ss.from = ""
	ss.to = nil
}

func (ss *session) Logout() error { return nil }

// errorLog routes go-smtp's internal error reports to the injected logger
// at debug level; its lines carry peer addresses, not message data.
type errorLog struct{ logger *slog.Logger }

func (l errorLog) Printf(format string, v ...any) {
	l.logger.Debug("capture smtp server", "detail", fmt.Sprintf(format, v...))
}

func (l errorLog) Println(v ...any) {
	l.logger.Debug("capture smtp server", "detail", fmt.Sprint(v...))
}
