package delivery

import (
	"crypto/x509"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// TLSMode selects how the relay connection is secured. There is no
// plaintext mode.
type TLSMode string

const (
	// StartTLS connects in plaintext and upgrades with STARTTLS (RFC 3207)
	// before any transaction, usually on port 587 or 25.
	StartTLS TLSMode = "starttls"
	// ImplicitTLS starts TLS at connect time (RFC 8314), usually on port 465.
	ImplicitTLS TLSMode = "implicit"
)

// Defaults applied by NewRelay to zero Config fields.
//
// RFC 5321 §4.5.3.2 sets generous minimum timeouts for a server waiting on a
// distant, busy peer. A relay is our own smarthost and answers in
// milliseconds, and the queue's job timeout is three minutes, so each phase
// here is shorter; DefaultSendTimeout caps the whole Send below the job
// timeout whatever the per-phase values add up to.
const (
	// DefaultDialTimeout bounds the TCP connect.
	DefaultDialTimeout = 10 * time.Second
	// DefaultGreetingTimeout bounds the wait for the 220 greeting; RFC 5321
	// §4.5.3.2.1 suggests 5 minutes.
	DefaultGreetingTimeout = 30 * time.Second
	// DefaultHandshakeTimeout bounds the whole TLS handshake; RFC 5321 has no
	// figure for it, and a stalled handshake otherwise parks the worker.
	DefaultHandshakeTimeout = 15 * time.Second
	// DefaultCommandTimeout bounds each command and its reply, including the
	// 354 reply to DATA; RFC 5321 §4.5.3.2.2-4 suggests 5 minutes for MAIL
	// and RCPT and 2 minutes for DATA.
	DefaultCommandTimeout = 30 * time.Second
	// DefaultDataTimeout bounds each write of a data block; RFC 5321
	// §4.5.3.2.5 suggests 3 minutes.
	DefaultDataTimeout = 60 * time.Second
	// DefaultFinalDotTimeout bounds the wait for the reply to the final ".";
	// RFC 5321 §4.5.3.2.6 suggests 10 minutes. A timeout here leaves the
	// outcome unknown (Error.Unknown).
	DefaultFinalDotTimeout = 60 * time.Second
	// DefaultSendTimeout bounds one whole Send, below the queue's job timeout
	// of 3 minutes so a Send always returns before the job is abandoned.
	DefaultSendTimeout = 150 * time.Second
	// DefaultMaxConns is the default pool size.
	DefaultMaxConns = 8
	// DefaultMaxMessagesPerConn is how many messages one connection carries
	// before it is closed with QUIT and replaced.
	DefaultMaxMessagesPerConn = 100
	// DefaultIdleTimeout is how long a pooled connection may sit unused.
	DefaultIdleTimeout = 30 * time.Second
	// DefaultHeloName is the EHLO name when none is configured.
	DefaultHeloName = "localhost"

	// quitTimeout bounds the polite QUIT when a connection is retired.
	quitTimeout = 2 * time.Second
)

// Config describes the relay and how to talk to it. Zero durations and
// counts take the Default constants.
//
// Password is a secret: Config prints and logs with it redacted.
type Config struct {
	// Host is the relay's DNS name or IP address. Required.
	Host string
	// Port is the relay's TCP port. Required.
	Port int
	// TLSMode is StartTLS or ImplicitTLS; empty means StartTLS.
	TLSMode TLSMode
	// RootCAs verifies the relay's certificate; nil means the system roots.
	RootCAs *x509.CertPool
	// ServerName is the name the certificate must carry; defaults to Host.
	ServerName string
	// Username and Password enable AUTH PLAIN, which is only ever sent over
	// TLS. Both or neither.
	Username string
	// Password for AUTH PLAIN; never logged or printed.
	Password string
	// HeloName is the EHLO name; defaults to DefaultHeloName.
	HeloName string
	// MaxConns caps open connections; defaults to DefaultMaxConns.
	MaxConns int
	// MaxMessagesPerConn; defaults to DefaultMaxMessagesPerConn.
	MaxMessagesPerConn int
	// IdleTimeout closes pooled connections unused this long; defaults to
	// DefaultIdleTimeout.
	IdleTimeout time.Duration

	// Per-phase deadlines; see the Default constants for each.
	DialTimeout      time.Duration
	GreetingTimeout  time.Duration
	HandshakeTimeout time.Duration
	CommandTimeout   time.Duration
	DataTimeout      time.Duration
	FinalDotTimeout  time.Duration
	SendTimeout      time.Duration
}

// String describes the relay with the password redacted.
func (c Config) String() string {
	return fmt.Sprintf("relay %s:%d (%s, user %q, password %s)",
		c.Host, c.Port, c.TLSMode, c.Username, redacted(c.Password))
}

// GoString is String, so %#v cannot print the password either.
func (c Config) GoString() string {
	return c.String()
}

// LogValue logs the relay without the password.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("host", c.Host),
		slog.Int("port", c.Port),
		slog.String("tls_mode", string(c.TLSMode)),
		slog.Bool("auth", c.Username != ""),
		slog.Int("max_conns", c.MaxConns),
	)
}

func redacted(secret string) string {
	if secret == "" {
		return "unset"
	}
	return "[redacted]"
}

// withDefaults returns c with defaults applied, or an error naming the first
// invalid field. Error text never includes the password.
func (c Config) withDefaults() (Config, error) {
	if c.Host == "" {
		return c, configError("host is required")
	}
	if strings.ContainsAny(c.Host, " \t\r\n/") {
		return c, configError("host contains a forbidden character")
	}
	if c.Port < 1 || c.Port > 65535 {
		return c, configError("port must be between 1 and 65535")
	}
	switch c.TLSMode {
	case "":
		c.TLSMode = StartTLS
	case StartTLS, ImplicitTLS:
	default:
		return c, configError("tls mode must be %q or %q", StartTLS, ImplicitTLS)
	}
	if c.ServerName == "" {
		c.ServerName = c.Host
	}
	if (c.Username == "") != (c.Password == "") {
		return c, configError("username and password must be set together")
	}
	if strings.ContainsAny(c.Username, "\x00\r\n") || strings.ContainsAny(c.Password, "\x00\r\n") {
		return c, configError("credentials contain a forbidden character")
	}
	if c.HeloName == "" {
		c.HeloName = DefaultHeloName
	}
	if strings.ContainsAny(c.HeloName, " \t\r\n") {
		return c, configError("helo name contains a forbidden character")
	}

	counts := []struct {
		name  string
		value *int
		def   int
	}{
		{"max conns", &c.MaxConns, DefaultMaxConns},
		{"max messages per conn", &c.MaxMessagesPerConn, DefaultMaxMessagesPerConn},
	}
	for _, n := range counts {
		if *n.value < 0 {
			return c, configError("%s must not be negative", n.name)
		}
		if *n.value == 0 {
			*n.value = n.def
		}
	}

	durations := []struct {
		name  string
		value *time.Duration
		def   time.Duration
	}{
		{"idle timeout", &c.IdleTimeout, DefaultIdleTimeout},
		{"dial timeout", &c.DialTimeout, DefaultDialTimeout},
		{"greeting timeout", &c.GreetingTimeout, DefaultGreetingTimeout},
		{"handshake timeout", &c.HandshakeTimeout, DefaultHandshakeTimeout},
		{"command timeout", &c.CommandTimeout, DefaultCommandTimeout},
		{"data timeout", &c.DataTimeout, DefaultDataTimeout},
		{"final dot timeout", &c.FinalDotTimeout, DefaultFinalDotTimeout},
		{"send timeout", &c.SendTimeout, DefaultSendTimeout},
	}
	for _, d := range durations {
		if *d.value < 0 {
			return c, configError("%s must not be negative", d.name)
		}
		if *d.value == 0 {
			*d.value = d.def
		}
	}

	return c, nil
}
