package delivery

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// maxPlainReply caps the bytes read before TLS. Reply lines are at most 512
// octets (RFC 5321 §4.5.3.1.5); an EHLO reply with a few dozen extensions
// fits many times over.
const maxPlainReply = 64 << 10

// session is one authenticated TLS connection to the relay.
type session struct {
	conn       *phaseConn
	client     *smtp.Client
	tlsVersion uint16
	sent       int
	idleSince  time.Time
	broken     bool // closed by context cancellation
}

// open dials the relay and brings a session to the point where MAIL may be
// sent: TLS established and verified, EHLO answered, AUTH done.
func (r *Relay) open(ctx context.Context) (*session, error) {
	dialer := net.Dialer{Timeout: r.cfg.DialTimeout}
	raw, err := dialer.DialContext(ctx, "tcp", r.addr)
	if err != nil {
		return nil, classify(ctx, nil, PhaseDial, err)
	}
	conn := &phaseConn{Conn: raw}

	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	s, err := r.handshake(ctx, conn)
	stop()
	if err != nil {
		_ = raw.Close()
		return nil, err
	}

	r.logger.Debug("smtp session opened", "tls_version", tls.VersionName(s.tlsVersion))
	return s, nil
}

// handshake runs the session set-up on conn; see open.
func (r *Relay) handshake(ctx context.Context, conn *phaseConn) (*session, error) {
	var tlsConn *tls.Conn
	var err error

	if r.cfg.TLSMode == ImplicitTLS {
		if tlsConn, err = r.startTLS(ctx, conn); err != nil {
			return nil, err
		}
		if err := readGreeting(ctx, tlsConn, conn, r.cfg.GreetingTimeout); err != nil {
			return nil, err
		}
	} else {
		if err := readGreeting(ctx, conn, conn, r.cfg.GreetingTimeout); err != nil {
			return nil, err
		}
		if err := r.requestStartTLS(ctx, conn); err != nil {
			return nil, err
		}
		if tlsConn, err = r.startTLS(ctx, conn); err != nil {
			return nil, err
		}
	}

	s := &session{
		conn:       conn,
		client:     smtp.NewClient(newReplayConn(tlsConn)),
		tlsVersion: tlsConn.ConnectionState().Version,
	}
	// Replaced by phaseConn's own per-phase deadlines.
	s.client.CommandTimeout = 0
	s.client.SubmissionTimeout = 0

	conn.arm(r.cfg.CommandTimeout, true)
	if err := s.client.Hello(r.cfg.HeloName); err != nil {
		return nil, classify(ctx, conn, PhaseEHLO, err)
	}

	if r.cfg.Username != "" {
		if !s.client.SupportsAuth(sasl.Plain) {
			return nil, &Error{Phase: PhaseAuth, Temporary: true, Err: ErrAuthUnavailable}
		}
		auth := sasl.NewPlainClient("", r.cfg.Username, r.cfg.Password)
		if err := s.client.Auth(auth); err != nil {
			return nil, classify(ctx, conn, PhaseAuth, err)
		}
	}

	return s, nil
}

// readGreeting reads the 220 greeting from rw, which is the plain or the
// TLS connection; conn arms the deadline.
func readGreeting(ctx context.Context, rw io.Reader, conn *phaseConn, timeout time.Duration) error {
	conn.arm(timeout, false)
	br := bufio.NewReader(io.LimitReader(rw, maxPlainReply))
	if _, _, err := textproto.NewReader(br).ReadResponse(220); err != nil {
		return classify(ctx, conn, PhaseGreeting, err)
	}
	if br.Buffered() > 0 {
		// The server talked before being asked to.
		return &Error{Phase: PhaseGreeting, Temporary: true, Err: ErrProtocol}
	}
	return nil
}

// requestStartTLS sends EHLO and STARTTLS in plaintext and waits for the
// 220 go-ahead. These two commands are the only bytes this package ever
// writes outside TLS. Without STARTTLS in the EHLO reply the session ends
// here with a polite QUIT (case BL-12).
func (r *Relay) requestStartTLS(ctx context.Context, conn *phaseConn) error {
	br := bufio.NewReader(io.LimitReader(conn, maxPlainReply))
	text := textproto.NewConn(struct {
		io.Reader
		io.Writer
		io.Closer
	}{br, conn, conn})

	conn.arm(r.cfg.CommandTimeout, true)
	if _, err := text.Cmd("EHLO %s", r.cfg.HeloName); err != nil {
		return classify(ctx, conn, PhaseEHLO, err)
	}
	_, msg, err := text.ReadResponse(250)
	if err != nil {
		return classify(ctx, conn, PhaseEHLO, err)
	}
	if !hasExtension(msg, "STARTTLS") {
		conn.arm(quitTimeout, true)
		if _, err := text.Cmd("QUIT"); err == nil {
			_, _, _ = text.ReadResponse(221)
		}
		return &Error{Phase: PhaseStartTLS, Temporary: true, Err: ErrNoStartTLS}
	}

	if _, err := text.Cmd("STARTTLS"); err != nil {
		return classify(ctx, conn, PhaseStartTLS, err)
	}
	if _, _, err := text.ReadResponse(220); err != nil {
		return classify(ctx, conn, PhaseStartTLS, err)
	}
	if br.Buffered() > 0 {
		// Plaintext queued behind the 220 would be read as if it came over
		// TLS (response injection); refuse the session.
		return &Error{Phase: PhaseStartTLS, Temporary: true, Err: ErrProtocol}
	}
	return nil
}

// startTLS runs the TLS handshake on conn under the handshake deadline.
func (r *Relay) startTLS(ctx context.Context, conn *phaseConn) (*tls.Conn, error) {
	conn.arm(r.cfg.HandshakeTimeout, false)
	tlsConn := tls.Client(conn, r.tlsConfig)
	if err := tlsConn.HandshakeContext(ctx); err != nil {
		return nil, classify(ctx, conn, PhaseTLS, err)
	}
	return tlsConn, nil
}

// hasExtension reports whether an EHLO reply (lines after the first, as
// returned by textproto) advertises the extension keyword.
func hasExtension(reply, keyword string) bool {
	for _, ext := range parseExtensions(reply) {
		if ext == keyword {
			return true
		}
	}
	return false
}

// parseExtensions returns the upper-cased extension keywords of an EHLO
// reply (RFC 5321 §4.1.1.1); the first line is the greeting and is skipped.
func parseExtensions(reply string) []string {
	lines := strings.Split(reply, "\n")
	if len(lines) < 2 {
		return nil
	}
	exts := make([]string, 0, len(lines)-1)
	for _, line := range lines[1:] {
		keyword, _, _ := strings.Cut(strings.TrimSpace(line), " ")
		if keyword != "" {
			exts = append(exts, strings.ToUpper(keyword))
		}
	}
	return exts
}

// deliver runs one MAIL/RCPT/DATA transaction on the session.
func (r *Relay) deliver(
	ctx context.Context, s *session, env Envelope, msg []byte,
) (*Receipt, error) {
	c := s.client

	s.conn.arm(r.cfg.CommandTimeout, true)
	if err := c.Mail(env.From, &smtp.MailOptions{Size: int64(len(msg))}); err != nil {
		return nil, classify(ctx, s.conn, PhaseMail, err)
	}
	for _, to := range env.To {
		if err := c.Rcpt(to, nil); err != nil {
			return nil, classify(ctx, s.conn, PhaseRcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return nil, classify(ctx, s.conn, PhaseData, err)
	}

	s.conn.arm(r.cfg.DataTimeout, true)
	if _, err := w.Write(msg); err != nil {
		return nil, classify(ctx, s.conn, PhaseData, err)
	}

	s.conn.arm(r.cfg.FinalDotTimeout, true)
	resp, err := w.CloseWithResponse()
	if err != nil {
		e := classify(ctx, s.conn, PhaseFinalDot, err)
		if e.Code == 0 && !s.conn.writeFailed {
			e.Unknown = true
			e.Temporary = true
			e.Err = &causeError{reason: ErrOutcomeUnknown, detail: e.Err}
		}
		return nil, e
	}

	s.sent++
	return &Receipt{
		Code:         250,
		EnhancedCode: leadingEnhancedCode(resp.StatusText),
		TLSVersion:   s.tlsVersion,
	}, nil
}

// reset readies a pooled session for the next message with RSET, which also
// proves the connection is still alive.
func (r *Relay) reset(ctx context.Context, s *session) error {
	s.conn.arm(r.cfg.CommandTimeout, true)
	if err := s.client.Reset(); err != nil {
		return classify(ctx, s.conn, PhaseMail, err)
	}
	return nil
}

// quit ends the session politely under a short deadline and closes it.
func (r *Relay) quit(s *session) {
	s.conn.arm(quitTimeout, true)
	if err := s.client.Quit(); err != nil {
		_ = s.client.Close()
	}
	r.logger.Debug("smtp session closed", "messages", s.sent)
}

// leadingEnhancedCode returns the RFC 3463 code at the start of reply text,
// or "" when there is none.
func leadingEnhancedCode(text string) string {
	first, _, _ := strings.Cut(text, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 || (parts[0] != "2" && parts[0] != "4" && parts[0] != "5") {
		return ""
	}
	for _, p := range parts[1:] {
		if n, err := strconv.Atoi(p); err != nil || n < 0 || n > 999 || len(p) > 3 {
			return ""
		}
	}
	return first
}

// sessionPhases are phases about the relay session rather than the message:
// a 5xx there (bad credentials, a relay refusing us) is an operator problem,
// so the message stays retryable instead of failing for good.
var sessionPhases = map[string]bool{
	PhaseGreeting: true, PhaseEHLO: true, PhaseStartTLS: true, PhaseAuth: true,
}

// classify turns any failure into an *Error without keeping text that may
// come from the relay.
func classify(ctx context.Context, conn *phaseConn, phase string, err error) *Error {
	var se *smtp.SMTPError
	var te *textproto.Error
	code, enhanced := 0, ""
	switch {
	case errors.As(err, &se):
		code = se.Code
		ec := se.EnhancedCode
		// leadingEnhancedCode drops codes outside RFC 3463's shape.
		enhanced = leadingEnhancedCode(fmt.Sprintf("%d.%d.%d", ec[0], ec[1], ec[2]))
	case errors.As(err, &te):
		code = te.Code
		enhanced = leadingEnhancedCode(te.Msg)
	}
	if code != 0 {
		return &Error{
			Phase:        phase,
			Code:         code,
			EnhancedCode: enhanced,
			Temporary:    code < 500 || sessionPhases[phase],
			Err:          ErrReply,
		}
	}

	if ctxErr := ctx.Err(); ctxErr != nil {
		return &Error{Phase: phase, Temporary: true, Err: ctxErr}
	}
	if conn != nil && conn.expired() {
		return &Error{Phase: phase, Temporary: true, Err: ErrTimeout}
	}
	return &Error{Phase: phase, Temporary: true, Err: cause(phase, err)}
}

// cause maps a transport error to a sentinel, joined with the original only
// when the original cannot carry relay text.
func cause(phase string, err error) error {
	var netErr net.Error
	if errors.As(err, &netErr) && netErr.Timeout() {
		return ErrTimeout
	}

	var verifyErr *tls.CertificateVerificationError
	var invalid x509.CertificateInvalidError
	var hostname x509.HostnameError
	var unknown x509.UnknownAuthorityError
	switch {
	case errors.As(err, &invalid) && (invalid.Reason == x509.Expired):
		return &causeError{reason: ErrCertExpired, detail: err}
	case errors.As(err, &hostname):
		return &causeError{reason: ErrCertName, detail: err}
	case errors.As(err, &unknown), errors.As(err, &verifyErr), errors.As(err, &invalid):
		return &causeError{reason: ErrCertUntrusted, detail: err}
	}

	if phase == PhaseTLS {
		// crypto/tls reports version refusals, local or from the peer's
		// alert, only as text.
		if strings.Contains(err.Error(), "protocol version") {
			return ErrTLSVersion
		}
		if errors.Is(err, io.EOF) || errors.As(err, &netErr) {
			return &causeError{reason: ErrTLSHandshake, detail: ErrConnection}
		}
		return ErrTLSHandshake
	}

	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, net.ErrClosed) || errors.As(err, &netErr) {
		return ErrConnection
	}
	return ErrProtocol
}
