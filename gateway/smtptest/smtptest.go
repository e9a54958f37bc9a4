// Package smtptest runs real SMTP servers (go-smtp) on loopback for tests:
// a receiving relay with STARTTLS or implicit TLS from a test CA, and
// misbehaving variants (no STARTTLS, an untrusted or expired certificate,
// old TLS versions, scripted 4xx/5xx replies, slow replies). It records what
// reached each SMTP phase so tests can prove, for instance, that nothing was
// sent in clear.
package smtptest

import (
	"bytes"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/sealpost/sealpost/gateway/localca"
)

// Options shape a test server. The zero value is a well-behaved relay
// offering STARTTLS with a certificate for localhost and 127.0.0.1 from CA.
type Options struct {
	// CA issues the server certificate; New makes one when nil.
	CA *localca.CA
	// Cert overrides the issued certificate (expired, wrong name, ...).
	Cert *tls.Certificate
	// NoSTARTTLS makes the server advertise no STARTTLS at all.
	NoSTARTTLS bool
	// ImplicitTLS wraps the listener in TLS from the first byte (port 465 style).
	ImplicitTLS bool
	// MaxTLSVersion caps the server's TLS version (e.g. tls.VersionTLS11).
	MaxTLSVersion uint16
	// RcptReply and DataReply, when set, are returned for every RCPT / DATA.
	RcptReply *smtp.SMTPError
	DataReply *smtp.SMTPError
	// DataDelay is slept before answering the final ".".
	DataDelay time.Duration
}

// Received is one message the server accepted.
type Received struct {
	From       string
	To         []string
	Data       []byte
	TLSVersion uint16 // 0 when the session was not encrypted
}

// Server is a running test server.
type Server struct {
	CA   *localca.CA
	Addr string
	Host string
	Port int

	opts Options
	srv  *smtp.Server

	mu       sync.Mutex
	messages []Received
	mails    int
	rcpts    int
	datas    int
	arrived  chan struct{}
	closed   chan struct{}
	once     sync.Once
}

// Start starts a server on 127.0.0.1 and stops it when the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// New starts a server; call Close when done.
func New(opts Options) (*Server, error) {
	ca := opts.CA
	if ca == nil {
		var err error
		if ca, err = localca.New("Sealpost Test CA"); err != nil {
			return nil, err
		}
	}
	cert := opts.Cert
	if cert == nil {
		c, err := ca.Issue("localhost", "127.0.0.1")
		if err != nil {
			return nil, err
		}
		cert = &c
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{*cert}, MinVersion: tls.VersionTLS10}
	if opts.MaxTLSVersion != 0 {
		tlsCfg.MaxVersion = opts.MaxTLSVersion
	}

	s := &Server{
		CA:      ca,
		opts:    opts,
		arrived: make(chan struct{}, 1<<16),
		closed:  make(chan struct{}),
	}
	s.srv = smtp.NewServer(s)
	s.srv.Domain = "localhost"
	s.srv.ReadTimeout = 30 * time.Second
	s.srv.WriteTimeout = 30 * time.Second
	s.srv.MaxMessageBytes = 10 << 20
	s.srv.MaxRecipients = 100
	if !opts.NoSTARTTLS && !opts.ImplicitTLS {
		s.srv.TLSConfig = tlsCfg
	}

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	if opts.ImplicitTLS {
		l = tls.NewListener(l, tlsCfg)
	}
	s.Addr = l.Addr().String()
	host, port, _ := net.SplitHostPort(s.Addr)
	s.Host = host
	s.Port, _ = strconv.Atoi(port)
	go func() { _ = s.srv.Serve(l) }()
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error {
	s.once.Do(func() { close(s.closed) })
	return s.srv.Close()
}

// Messages returns the messages accepted so far.
func (s *Server) Messages() []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Received(nil), s.messages...)
}

// Commands counts the MAIL, RCPT and DATA commands that reached the server.
func (s *Server) Commands() (mail, rcpt, data int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mails, s.rcpts, s.datas
}

// WaitMessages waits until n messages have arrived or timeout passes, and
// returns what arrived.
func (s *Server) WaitMessages(n int, timeout time.Duration) []Received {
	deadline := time.After(timeout)
	for {
		if msgs := s.Messages(); len(msgs) >= n {
			return msgs
		}
		select {
		case <-s.arrived:
		case <-deadline:
			return s.Messages()
		}
	}
}

// NewSession implements smtp.Backend.
func (s *Server) NewSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, c: c}, nil
}

type session struct {
	s    *Server
	c    *smtp.Conn
	from string
	to   []string
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.s.mu.Lock()
	ss.s.mails++
	ss.s.mu.Unlock()
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.rcpts++
	ss.s.mu.Unlock()
	if ss.s.opts.RcptReply != nil {
		return ss.s.opts.RcptReply
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.s.mu.Lock()
	ss.s.datas++
	ss.s.mu.Unlock()
	var buf bytes.Buffer
	if _, err := io.Copy(&buf, r); err != nil {
		return err
	}
	if ss.s.opts.DataDelay > 0 {
		select {
		case <-time.After(ss.s.opts.DataDelay):
		case <-ss.s.closed:
			return errors.New("server closing")
		}
	}
	if ss.s.opts.DataReply != nil {
		return ss.s.opts.DataReply
	}
	var version uint16
	if st, ok := ss.c.TLSConnectionState(); ok {
		version = st.Version
	}
	ss.s.mu.Lock()
	ss.s.messages = append(
		ss.s.messages,
		Received{From: ss.from, To: ss.to, Data: buf.Bytes(), TLSVersion: version},
	)
	ss.s.mu.Unlock()
	select {
	case ss.s.arrived <- struct{}{}:
	default:
	}
	return nil
}

func (ss *session) Reset()        { ss.from, ss.to = "", nil }
func (ss *session) Logout() error { return nil }

// ErrTemporary and ErrPermanent are ready-made replies for RcptReply and
// DataReply.
var (
	ErrTemporary = &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0},
		Message: "try again later"}
	ErrPermanent = &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1},
		Message: "no such user here"}
)
