package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
)

// Phases of an SMTP session, as reported in Error.Phase.
const (
	PhaseMessage  = "message" // envelope or message refused before dialling
	PhaseDial     = "dial"
	PhaseGreeting = "greeting"
	PhaseEHLO     = "ehlo"
	PhaseStartTLS = "starttls"
	PhaseTLS      = "tls"
	PhaseAuth     = "auth"
	PhaseMail     = "mail"
	PhaseRcpt     = "rcpt"
	PhaseData     = "data"
	PhaseFinalDot = "final_dot"
	PhaseQuit     = "quit"
)

// Causes wrapped by Error.Err. Each says what went wrong without echoing any
// value, so it is safe to log and to store as a job error.
var (
	// ErrClosed means Send was called after Close.
	ErrClosed = errors.New("relay closed")

	// ErrInvalidConfig wraps every configuration problem found by NewRelay.
	ErrInvalidConfig = errors.New("invalid relay config")

	// ErrInvalidEnvelope means an address in the envelope is unusable.
	ErrInvalidEnvelope = errors.New("invalid envelope")

	// ErrInvalidMessage means the message bytes cannot be sent unchanged.
	ErrInvalidMessage = errors.New("invalid message")

	// ErrReply means the relay answered with an error reply; its code and
	// enhanced code are in Error, its free text is dropped.
	ErrReply = errors.New("relay replied with an error")

	// ErrNoStartTLS means the relay did not advertise STARTTLS.
	ErrNoStartTLS = errors.New("server does not offer STARTTLS")

	// ErrTLSHandshake means the TLS handshake failed for a reason other than
	// the certificate or the protocol version.
	ErrTLSHandshake = errors.New("tls handshake failed")

	// ErrCertUntrusted means the relay's certificate does not chain to a
	// trusted root.
	ErrCertUntrusted = errors.New("certificate not trusted")

	// ErrCertExpired means the relay's certificate is expired or not yet
	// valid.
	ErrCertExpired = errors.New("certificate expired or not yet valid")

	// ErrCertName means the relay's certificate does not name the relay.
	ErrCertName = errors.New("certificate name mismatch")

	// ErrTLSVersion means the relay offers only TLS versions below 1.2.
	ErrTLSVersion = errors.New("tls protocol version too old")

	// ErrAuthUnavailable means credentials are configured but the relay does
	// not offer AUTH PLAIN.
	ErrAuthUnavailable = errors.New("server does not offer AUTH PLAIN")

	// ErrTimeout means a per-phase deadline passed.
	ErrTimeout = errors.New("timed out")

	// ErrConnection means the connection failed or was closed by the peer.
	ErrConnection = errors.New("connection failed")

	// ErrProtocol means the relay sent something that is not valid SMTP.
	ErrProtocol = errors.New("malformed server reply")

	// ErrOutcomeUnknown means the final "." was sent but no reply arrived:
	// the relay may or may not have taken the message.
	ErrOutcomeUnknown = errors.New("delivery outcome unknown")
)

// Details wrapped after ErrInvalidEnvelope, naming the fault, never the
// address.
var (
	errPathEmpty = errors.New("is empty")
	errPathLong  = fmt.Errorf("is longer than %d octets", MaxPathLength)
	errPathChar  = errors.New("contains a forbidden character")
)

// Error is the one error type returned by Send. The queue decides retry
// versus failure from Temporary and Unknown alone.
//
// Error never carries addresses, message content or the relay's reply text:
// Code and EnhancedCode are copied out of the reply and the text is dropped.
type Error struct {
	// Phase is one of the Phase constants.
	Phase string
	// Code is the SMTP reply code, 0 when there was none (network, TLS).
	Code int
	// EnhancedCode is the RFC 3463 status code such as "5.1.1", or "".
	EnhancedCode string
	// Temporary is true for 4xx replies, network failures, timeouts and TLS
	// policy failures, and false for 5xx replies about the message.
	Temporary bool
	// Unknown is true when the final "." was sent but no reply arrived, so
	// the relay may have accepted the message. A retry must reuse the same
	// Message-ID.
	Unknown bool
	// Err is the wrapped cause: one of this package's sentinel errors,
	// possibly joined with a cause that carries no message data.
	Err error
}

// Error reports the phase and either the reply codes or a short reason,
// e.g. "smtp rcpt: 550 5.1.1" or "smtp starttls: server does not offer
// STARTTLS".
func (e *Error) Error() string {
	prefix := "smtp " + e.Phase + ": "
	if e.Code != 0 {
		s := prefix + strconv.Itoa(e.Code)
		if e.EnhancedCode != "" {
			s += " " + e.EnhancedCode
		}
		return s
	}
	if e.Err != nil {
		return prefix + e.Err.Error()
	}
	return prefix + "failed"
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error {
	return e.Err
}

// Reason returns a stable snake_case token for metrics and audit events,
// such as "cert_expired" or "reply".
func (e *Error) Reason() string {
	for _, r := range reasons {
		if errors.Is(e.Err, r.err) {
			return r.name
		}
	}
	return "unknown"
}

// LogValue reports the error's classification, which holds no PHI.
func (e *Error) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("phase", e.Phase),
		slog.Int("code", e.Code),
		slog.String("enhanced_code", e.EnhancedCode),
		slog.String("reason", e.Reason()),
		slog.Bool("temporary", e.Temporary),
		slog.Bool("unknown", e.Unknown),
	)
}

// reasons maps causes to Reason tokens; the first match wins, so the more
// specific causes come first.
var reasons = []struct {
	err  error
	name string
}{
	{ErrOutcomeUnknown, "outcome_unknown"},
	{ErrNoStartTLS, "no_starttls"},
	{ErrCertExpired, "cert_expired"},
	{ErrCertName, "cert_name_mismatch"},
	{ErrCertUntrusted, "cert_untrusted"},
	{ErrTLSVersion, "tls_version"},
	{ErrTLSHandshake, "tls_handshake"},
	{ErrAuthUnavailable, "auth_unavailable"},
	{ErrReply, "reply"},
	{ErrTimeout, "timeout"},
	{context.DeadlineExceeded, "timeout"},
	{context.Canceled, "canceled"},
	{ErrConnection, "connection"},
	{ErrProtocol, "protocol"},
	{ErrInvalidEnvelope, "invalid_envelope"},
	{ErrInvalidMessage, "invalid_message"},
	{ErrClosed, "closed"},
}

func configError(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalidConfig, fmt.Sprintf(format, args...))
}

// causeError pairs a sentinel with the error that led to it. Its text is the
// sentinel's alone, so a detail such as a certificate error stays available
// to errors.As without lengthening log lines.
type causeError struct {
	reason error
	detail error
}

func (e *causeError) Error() string {
	return e.reason.Error()
}

func (e *causeError) Unwrap() []error {
	return []error{e.reason, e.detail}
}
