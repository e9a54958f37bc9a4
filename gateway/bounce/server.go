package bounce

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
	"golang.org/x/net/netutil"
)

// Defaults for ServerConfig.
const (
	// DefaultMaxMessageBytes caps one inbound report. RFC 5321 §4.5.3.1.7
	// sets a floor of 64 KiB; a DSN with returned headers is a few KiB,
	// and 2 MiB leaves room for a full returned message.
	DefaultMaxMessageBytes = 2 << 20
	// DefaultMaxRecipients caps RCPT per transaction. A bounce has one;
	// RFC 5321 §4.5.3.1.8's 100 is for general mail, not a bounce box.
	DefaultMaxRecipients = 10
	// DefaultMaxMessagesPerConn caps transactions on one connection.
	DefaultMaxMessagesPerConn = 50
	// DefaultMaxBytesPerConn caps DATA bytes on one connection; the check
	// runs at MAIL, so one message may overshoot it.
	DefaultMaxBytesPerConn = 16 << 20
	// DefaultMaxConnections caps concurrent connections.
	DefaultMaxConnections = 100
	// DefaultTimeout bounds each read and write on a connection. RFC 5321
	// §4.5.3.2 asks for minutes; bounce senders are MTAs, not people.
	DefaultTimeout = time.Minute
	// DefaultHandleTimeout bounds one call of the report handler.
	DefaultHandleTimeout = 30 * time.Second
)

// ServerConfig configures NewServer. Zero values take the defaults above.
type ServerConfig struct {
	// VERP verifies recipient addresses; required.
	VERP VERP
	// TLS, when set, is offered through STARTTLS (RFC 3207).
	TLS *tls.Config
	// RequireTLS refuses MAIL before STARTTLS. Off by default: many MTAs
	// send bounces without TLS, and a report holds no content we keep.
	RequireTLS bool
	// Hostname is the name the server greets with; defaults to
	// VERP.Domain.
	Hostname string

	MaxMessageBytes    int64
	MaxRecipients      int
	MaxMessagesPerConn int
	MaxBytesPerConn    int64
	MaxConnections     int
	Timeout            time.Duration
	HandleTimeout      time.Duration
}

func (c *ServerConfig) setDefaults() {
	if c.Hostname == "" {
		c.Hostname = strings.ToLower(c.VERP.Domain)
	}
	if c.MaxMessageBytes <= 0 {
		c.MaxMessageBytes = DefaultMaxMessageBytes
	}
	if c.MaxRecipients <= 0 {
		c.MaxRecipients = DefaultMaxRecipients
	}
	if c.MaxMessagesPerConn <= 0 {
		c.MaxMessagesPerConn = DefaultMaxMessagesPerConn
	}
	if c.MaxBytesPerConn <= 0 {
		c.MaxBytesPerConn = DefaultMaxBytesPerConn
	}
	if c.MaxConnections <= 0 {
		c.MaxConnections = DefaultMaxConnections
	}
	if c.Timeout <= 0 {
		c.Timeout = DefaultTimeout
	}
	if c.HandleTimeout <= 0 {
		c.HandleTimeout = DefaultHandleTimeout
	}
}

// Handler receives the Reports of one accepted message. An error makes the
// server answer 451 so the sender retries later.
type Handler func(ctx context.Context, reports []Report) error

// Server is the inbound SMTP listener for bounces and feedback reports.
//
// It accepts RCPT for VERP addresses that verify and for postmaster and
// abuse at the VERP domain (RFC 5321 §4.5.1 requires postmaster; RFC 2142
// names abuse, where providers send feedback reports). Everything else is
// refused with 550 5.1.1. For postmaster and abuse the message id comes
// from the returned message's envelope sender or Return-Path when that is
// a VERP address that verifies, and is otherwise left empty.
//
// Mail that parses to nothing (auto-replies, chatter) is accepted and
// dropped, so no one gets a bounce for a bounce.
type Server struct {
	cfg    ServerConfig
	handle Handler
	logger *slog.Logger
	smtp   *smtp.Server

	ctx    context.Context
	cancel context.CancelFunc

	mu       sync.Mutex
	listener net.Listener
}

// NewServer checks cfg and returns a server that is not yet listening.
func NewServer(cfg ServerConfig, handle func(ctx context.Context, reports []Report) error,
	logger *slog.Logger) (*Server, error) {
	if err := cfg.VERP.Validate(); err != nil {
		return nil, err
	}
	if handle == nil {
		return nil, ErrNoHandler
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	cfg.setDefaults()

	s := &Server{cfg: cfg, handle: handle, logger: logger}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	srv := smtp.NewServer(smtp.BackendFunc(s.newSession))
	srv.Domain = cfg.Hostname
	srv.ReadTimeout = cfg.Timeout
	srv.WriteTimeout = cfg.Timeout
	srv.MaxMessageBytes = cfg.MaxMessageBytes
	srv.MaxRecipients = cfg.MaxRecipients
	srv.TLSConfig = cfg.TLS
	srv.ErrorLog = errorLog{logger}
	s.smtp = srv
	return s, nil
}

// Serve accepts connections on l, at most MaxConnections at a time, until
// Close or Shutdown, then returns nil.
func (s *Server) Serve(l net.Listener) error {
	l = netutil.LimitListener(l, s.cfg.MaxConnections)
	s.mu.Lock()
	s.listener = l
	s.mu.Unlock()

	s.logger.Info("bounce server listening", "addr", l.Addr().String(),
		"starttls", s.cfg.TLS != nil)
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

// Close stops listening, cancels running handlers and closes every
// connection.
func (s *Server) Close() error {
	s.cancel()
	return s.smtp.Close()
}

// Shutdown stops listening and waits for open connections to end, or for
// ctx to expire; handlers keep running until they return.
func (s *Server) Shutdown(ctx context.Context) error {
	err := s.smtp.Shutdown(ctx)
	s.cancel()
	return err
}

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

// SMTP replies. None echoes an address.
var (
	errRequireTLS = &smtp.SMTPError{Code: 530, EnhancedCode: smtp.EnhancedCode{5, 7, 0},
		Message: "Must issue a STARTTLS command first"}
	errUnknownRecipient = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "No such recipient"}
	errOneMessagePerTransaction = &smtp.SMTPError{Code: 452,
		EnhancedCode: smtp.EnhancedCode{4, 5, 3},
		Message:      "One bounce address per transaction, send the rest separately"}
	errConnLimit = &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 7, 0},
		Message: "Too much mail on this connection, reconnect later"}
	errHandle = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "Could not record report, try again later"}
)

// session is one SMTP connection; go-smtp calls it from one goroutine.
type session struct {
	s    *Server
	conn *smtp.Conn

	messages int   // transactions begun on this connection
	bytes    int64 // DATA bytes read on this connection

	messageID string // from the verified VERP recipient, if any
	verp      bool   // a VERP recipient was accepted
}

func (ss *session) Mail(_ string, _ *smtp.MailOptions) error {
	if ss.s.cfg.RequireTLS {
		if _, ok := ss.conn.TLSConnectionState(); !ok {
			return errRequireTLS
		}
	}
	if ss.messages >= ss.s.cfg.MaxMessagesPerConn || ss.bytes >= ss.s.cfg.MaxBytesPerConn {
		ss.s.logger.Warn("bounce connection limit reached", "messages", ss.messages,
			"bytes", ss.bytes)
		return errConnLimit
	}
	ss.messages++
	ss.Reset()
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	if id, ok := ss.s.cfg.VERP.MessageID(to); ok {
		if ss.verp && id != ss.messageID {
			return errOneMessagePerTransaction
		}
		ss.verp, ss.messageID = true, id
		return nil
	}
	if ss.isMailbox(to) {
		return nil
	}
	return errUnknownRecipient
}

// isMailbox matches postmaster (also bare, RFC 5321 §4.1.1.3) and abuse
// at the VERP domain.
func (ss *session) isMailbox(to string) bool {
	to = strings.ToLower(to)
	if to == "postmaster" {
		return true
	}
	local, domain, ok := strings.Cut(to, "@")
	if !ok || domain != strings.ToLower(ss.s.cfg.VERP.Domain) {
		return false
	}
	return local == "postmaster" || local == "abuse"
}

func (ss *session) Data(r io.Reader) error {
	var buf bytes.Buffer
	n, err := buf.ReadFrom(r)
	ss.bytes += n
	if err != nil {
		// go-smtp's size limit surfaces here as its own 552 reply.
		return err
	}

	reports, ret, err := parse(&buf)
	buf.Reset()
	if err != nil {
		reason := "unparseable"
		if errors.Is(err, ErrNotReport) {
			reason = "not_a_report"
		}
		ss.s.logger.Info("bounce message ignored", "reason", reason, "bytes", n)
		return nil
	}

	messageID := ss.messageID
	if !ss.verp {
		messageID, _ = ss.s.cfg.VERP.MessageID(ret.returnPath)
	}
	for i := range reports {
		reports[i].MessageID = messageID
	}

	ctx, cancel := context.WithTimeout(ss.s.ctx, ss.s.cfg.HandleTimeout)
	defer cancel()
	if err := ss.s.handle(ctx, reports); err != nil {
		ss.s.logger.Error("bounce report handler failed", "reports", len(reports),
			"err", err)
		return errHandle
	}
	ss.s.logger.Info("bounce reports received", countAttrs(reports, messageID != "")...)
	return nil
}

// countAttrs summarises reports as counts per kind, nothing else.
func countAttrs(reports []Report, correlated bool) []any {
	counts := map[Kind]int{}
	hard := 0
	for _, r := range reports {
		counts[r.Kind]++
		if r.Hard {
			hard++
		}
	}
	return []any{
		"reports", len(reports),
		"bounce", counts[KindBounce],
		"hard", hard,
		"delay", counts[KindDelay],
		"complaint", counts[KindComplaint],
		"delivery", counts[KindDelivery],
		"correlated", correlated,
	}
}

func (ss *session) Reset() {
	ss.messageID, ss.verp = "", false
}

func (ss *session) Logout() error { return nil }

// errorLog counts go-smtp's internal error reports at debug level without
// their text, which carries peer addresses.
type errorLog struct{ logger *slog.Logger }

func (l errorLog) Printf(string, ...any) { l.logger.Debug("bounce smtp connection error") }

func (l errorLog) Println(...any) { l.logger.Debug("bounce smtp connection error") }
