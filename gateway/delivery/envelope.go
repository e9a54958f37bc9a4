package delivery

import (
	"bytes"
	"fmt"
	"log/slog"
)

// Limits checked before a message is handed to the relay.
const (
	// MaxPathLength is the longest reverse- or forward-path, RFC 5321
	// §4.5.3.1.3.
	MaxPathLength = 256
	// MaxRecipients is the most recipients one Send carries; RFC 5321
	// §4.5.3.1.8 requires servers to accept at least this many.
	MaxRecipients = 100
	// MaxLineLength is the longest message line in octets excluding CRLF,
	// RFC 5321 §4.5.3.1.6 (1000 including CRLF) and RFC 5322 §2.1.1.
	MaxLineLength = 998
)

// Envelope is the SMTP envelope of one message. Addresses are plain ASCII
// and already validated by the caller; Send still refuses any that could
// alter the command line.
//
// An Envelope logs as a recipient count only.
type Envelope struct {
	// From is the reverse-path; empty means the null path "<>".
	From string
	// To holds the forward-paths, at least one.
	To []string
}

// LogValue logs the envelope without addresses.
func (e Envelope) LogValue() slog.Value {
	return slog.GroupValue(slog.Int("rcpt_count", len(e.To)))
}

// Receipt is the relay's acceptance of a message.
type Receipt struct {
	// Code is the reply code to the final ".", normally 250.
	Code int
	// EnhancedCode is the RFC 3463 status, e.g. "2.0.0", or "" when the
	// relay sent none.
	EnhancedCode string
	// TLSVersion is the negotiated TLS version, e.g. tls.VersionTLS13.
	TLSVersion uint16
	// Reused is true when the message travelled on a pooled connection.
	Reused bool
}

// checkEnvelope refuses envelopes that could inject into SMTP commands. The
// error names the field, never the value.
func checkEnvelope(env Envelope) error {
	if env.From != "" {
		if err := checkPath(env.From); err != nil {
			return fmt.Errorf("%w: sender %w", ErrInvalidEnvelope, err)
		}
	}
	if len(env.To) == 0 {
		return fmt.Errorf("%w: no recipients", ErrInvalidEnvelope)
	}
	if len(env.To) > MaxRecipients {
		return fmt.Errorf("%w: more than %d recipients", ErrInvalidEnvelope, MaxRecipients)
	}
	for i, to := range env.To {
		if err := checkPath(to); err != nil {
			return fmt.Errorf("%w: recipient %d %w", ErrInvalidEnvelope, i, err)
		}
	}
	return nil
}

// checkPath accepts printable ASCII without spaces or angle brackets, which
// is every address the caller's validation lets through and nothing that
// could close the path or start an SMTP parameter.
func checkPath(addr string) error {
	if addr == "" {
		return errPathEmpty
	}
	if len(addr) > MaxPathLength {
		return errPathLong
	}
	for i := 0; i < len(addr); i++ {
		c := addr[i]
		if c <= ' ' || c >= 0x7f || c == '<' || c == '>' {
			return errPathChar
		}
	}
	return nil
}

// checkMessage refuses message bytes that the DATA dot-encoder would alter
// (bare CR or LF, which would also break the DKIM signature) or that a
// strict relay would reject (NUL, over-long lines). See case BL-08.
func checkMessage(msg []byte) error {
	if len(msg) == 0 {
		return fmt.Errorf("%w: empty", ErrInvalidMessage)
	}
	if bytes.IndexByte(msg, 0) >= 0 {
		return fmt.Errorf("%w: contains NUL", ErrInvalidMessage)
	}

	line := 0
	for rest := msg; len(rest) > 0; line++ {
		i := bytes.IndexAny(rest, "\r\n")
		if i < 0 {
			i = len(rest)
		}
		if i > MaxLineLength {
			return fmt.Errorf("%w: line %d longer than %d octets", ErrInvalidMessage, line+1,
				MaxLineLength)
		}
		rest = rest[i:]
		if len(rest) == 0 {
			break
		}
		if len(rest) < 2 || rest[0] != '\r' || rest[1] != '\n' {
			return fmt.Errorf("%w: bare CR or LF on line %d", ErrInvalidMessage, line+1)
		}
		rest = rest[2:]
	}
	return nil
}
