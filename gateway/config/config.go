// Package config declares every setting of the gateway once: its
// environment variable, its default, how it is validated, and whether it is
// a secret. Settings come from the environment (SEALPOST_*), from a file of
// NAME=value lines given with --config, or, for secrets, from a file named
// by NAME_FILE. The environment wins over the file.
//
// Secrets are never printed: not by Describe, not in errors.
package config

import (
	"bufio"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Config is the gateway's resolved configuration.
type Config struct {
	DataDir          string
	DatabaseURL      string
	HTTPAddr         string
	HTTPTLSCertFile  string
	HTTPTLSKeyFile   string
	From             string
	RelayHost        string
	RelayPort        int
	RelayTLS         string
	RelayCAFile      string
	RelayUsername    string
	RelayPassword    string
	RelayHelo        string
	RelayMaxConns    int
	DKIMDir          string
	Workers          int
	MaxAttempts      int
	MaxRequestBytes  int64
	ShutdownTimeout  time.Duration
	LogLevel         string
	LogFormat        string
	MasterKeyFile    string
	PortalSecretFile string
	PublicURL        string
	RetainMessages   time.Duration
	RetainRecords    time.Duration
	WebhookURL       string
	WebhookSecrets   string
	AuditHeadFile    string
	BounceDomain     string
	BounceAddr       string
}

// Option is one declared setting.
type Option struct {
	Env     string
	Default string
	Help    string
	Secret  bool
	set     func(c *Config, v string) error
}

// Options lists every setting, in the order they are documented.
var Options = []Option{
	{Env: "SEALPOST_DATA_DIR", Default: "./sealpost-data",
		Help: "directory for the embedded SQLite database, generated keys and (in dev) the " +
			"capture inbox",
		set: func(c *Config, v string) error { c.DataDir = v; return nonEmpty(v) }},
	{Env: "SEALPOST_DATABASE_URL", Default: "", Secret: true,
		Help: "postgres:// URL; unset means the embedded SQLite database in the data directory",
		set:  setDatabaseURL},
	{Env: "SEALPOST_HTTP_ADDR", Default: "127.0.0.1:8025",
		Help: "listen address of the HTTP API",
		set:  func(c *Config, v string) error { c.HTTPAddr = v; return hostPort(v) }},
	{Env: "SEALPOST_HTTP_TLS_CERT_FILE", Default: "",
		Help: "PEM certificate for HTTPS on the API listener (with SEALPOST_HTTP_TLS_KEY_FILE)",
		set:  func(c *Config, v string) error { c.HTTPTLSCertFile = v; return nil }},
	{Env: "SEALPOST_HTTP_TLS_KEY_FILE", Default: "",
		Help: "PEM private key for HTTPS on the API listener",
		set:  func(c *Config, v string) error { c.HTTPTLSKeyFile = v; return nil }},
	{Env: "SEALPOST_FROM", Default: "",
		Help: "From address of every message, e.g. \"Shop <noreply@shop.example>\"; its " +
			"domain is the DKIM signing domain",
		set: setFrom},
	{Env: "SEALPOST_RELAY_HOST", Default: "",
		Help: "host name of the mail relay (smarthost); its certificate must match it",
		set:  func(c *Config, v string) error { c.RelayHost = v; return nil }},
	{Env: "SEALPOST_RELAY_PORT", Default: "587",
		Help: "relay port: 587 with STARTTLS, 465 with implicit TLS",
		set:  func(c *Config, v string) error { return setInt(&c.RelayPort, v, 1, 65535) }},
	{Env: "SEALPOST_RELAY_TLS", Default: "starttls",
		Help: "starttls or implicit; there is no plaintext mode",
		set:  setRelayTLS},
	{Env: "SEALPOST_RELAY_CA_FILE", Default: "",
		Help: "PEM CA bundle that signs the relay's certificate, for a private relay; unset " +
			"means the system roots",
		set: func(c *Config, v string) error { c.RelayCAFile = v; return nil }},
	{Env: "SEALPOST_RELAY_USERNAME", Default: "",
		Help: "AUTH PLAIN user name, sent only inside TLS",
		set:  func(c *Config, v string) error { c.RelayUsername = v; return nil }},
	{Env: "SEALPOST_RELAY_PASSWORD", Default: "", Secret: true,
		Help: "AUTH PLAIN password (or SEALPOST_RELAY_PASSWORD_FILE)",
		set:  func(c *Config, v string) error { c.RelayPassword = v; return nil }},
	{Env: "SEALPOST_RELAY_HELO", Default: "localhost",
		Help: "name sent in EHLO",
		set:  func(c *Config, v string) error { c.RelayHelo = v; return nonEmpty(v) }},
	{Env: "SEALPOST_RELAY_MAX_CONNS", Default: "8",
		Help: "most connections kept open to the relay; each carries many messages",
		set:  func(c *Config, v string) error { return setInt(&c.RelayMaxConns, v, 1, 1000) }},
	{Env: "SEALPOST_DKIM_DIR", Default: "",
		Help: "directory of DKIM private keys; unset means <data dir>/dkim",
		set:  func(c *Config, v string) error { c.DKIMDir = v; return nil }},
	{Env: "SEALPOST_WORKERS", Default: "0",
		Help: "concurrent deliveries per process; 0 picks 64 on PostgreSQL, 32 on SQLite",
		set:  func(c *Config, v string) error { return setInt(&c.Workers, v, 0, 10000) }},
	{Env: "SEALPOST_MAX_ATTEMPTS", Default: "25",
		Help: "delivery attempts before a message fails (backoff from 30s doubling up to 2h)",
		set:  func(c *Config, v string) error { return setInt(&c.MaxAttempts, v, 1, 100) }},
	{Env: "SEALPOST_MAX_REQUEST_BYTES", Default: "1048576",
		Help: "largest accepted API request body",
		set: func(c *Config, v string) error {
			var n int
			err := setInt(&n, v, 1024, 64<<20)
			c.MaxRequestBytes = int64(n)
			return err
		}},
	{Env: "SEALPOST_SHUTDOWN_TIMEOUT", Default: "30s",
		Help: "how long a stopping gateway lets in-flight deliveries finish before releasing " +
			"them for retry",
		set: func(c *Config, v string) error { return setDuration(&c.ShutdownTimeout, v) }},
	{Env: "SEALPOST_MASTER_KEY_FILE", Default: "",
		Help: "master key file that wraps sensitive payloads' data keys; unset means <data " +
			"dir>/master-key (dev creates it)",
		set: func(c *Config, v string) error { c.MasterKeyFile = v; return nil }},
	{Env: "SEALPOST_PORTAL_SECRET_FILE", Default: "",
		Help: "secret that derives portal link tokens and keys one-time codes; unset means " +
			"<data dir>/portal-secret",
		set: func(c *Config, v string) error { c.PortalSecretFile = v; return nil }},
	{Env: "SEALPOST_PUBLIC_URL", Default: "",
		Help: "public https:// base URL of the portal (links in emails); dev uses its own " +
			"HTTP address",
		set: setPublicURL},
	{Env: "SEALPOST_RETENTION_MESSAGES", Default: "720h",
		Help: "how long message metadata (status, recipient, data) is kept after acceptance",
		set:  func(c *Config, v string) error { return setDuration(&c.RetainMessages, v) }},
	{Env: "SEALPOST_RETENTION_RECORDS", Default: "52560h",
		Help: "how long consent history, removed suppressions and portal events are kept (6 years)",
		set:  func(c *Config, v string) error { return setDuration(&c.RetainRecords, v) }},
	{Env: "SEALPOST_WEBHOOK_URL", Default: "",
		Help: "https URL that receives signed delivery events (sent, deferred, failed, " +
			"suppressed, unsubscribed…)",
		set: func(c *Config, v string) error { c.WebhookURL = v; return nil }},
	{Env: "SEALPOST_WEBHOOK_SECRETS", Default: "", Secret: true,
		Help: "whsec_<current>[,whsec_<previous>]: HMAC-SHA256 signing secrets; two are " +
			"active during rotation",
		set: func(c *Config, v string) error { c.WebhookSecrets = v; return nil }},
	{Env: "SEALPOST_AUDIT_HEAD_FILE", Default: "",
		Help: "where the audit chain's head is written every hour, ideally storage the " +
			"database's writers cannot change; unset means <data dir>/audit-head.json",
		set: func(c *Config, v string) error { c.AuditHeadFile = v; return nil }},
	{Env: "SEALPOST_BOUNCE_DOMAIN", Default: "",
		Help: "return-path domain: messages are sent from bounces+<token>@ this domain (VERP) " +
			"so bounces find their message; needs the portal secret",
		set: func(c *Config, v string) error { c.BounceDomain = strings.ToLower(v); return nil }},
	{Env: "SEALPOST_BOUNCE_ADDR", Default: "",
		Help: "listen address of the inbound SMTP server for bounces and complaints (e.g. :25 " +
			"behind the MX of the bounce domain); unset means off",
		set: func(c *Config, v string) error {
			c.BounceAddr = v
			if v == "" {
				return nil
			}
			return hostPort(v)
		}},
	{Env: "SEALPOST_LOG_LEVEL", Default: "info",
		Help: "debug, info, warn or error",
		set:  func(c *Config, v string) error { c.LogLevel = v; return oneOf(v, "debug", "info", "warn", "error") }},
	{Env: "SEALPOST_LOG_FORMAT", Default: "text",
		Help: "text or json",
		set:  func(c *Config, v string) error { c.LogFormat = v; return oneOf(v, "text", "json") }},
}

// Load resolves every option from, in order of precedence: the
// environment, NAME_FILE for secrets, the config file (when file is not
// empty), and the default. overrides (from command-line flags) win over all.
func Load(file string, overrides map[string]string) (*Config, error) {
	fromFile := map[string]string{}
	if file != "" {
		var err error
		if fromFile, err = readFile(file); err != nil {
			return nil, err
		}
	}

	c := &Config{}
	var errs []error
	for _, o := range Options {
		v, err := o.lookup(fromFile, overrides)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if err := o.set(c, v); err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", o.Env, err))
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if c.DKIMDir == "" {
		c.DKIMDir = filepath.Join(c.DataDir, "dkim")
	}
	if c.MasterKeyFile == "" {
		c.MasterKeyFile = filepath.Join(c.DataDir, "master-key")
	}
	if c.AuditHeadFile == "" {
		c.AuditHeadFile = filepath.Join(c.DataDir, "audit-head.json")
	}
	if c.PortalSecretFile == "" {
		c.PortalSecretFile = filepath.Join(c.DataDir, "portal-secret")
	}
	if (c.HTTPTLSCertFile == "") != (c.HTTPTLSKeyFile == "") {
		return nil, errors.New(
			"SEALPOST_HTTP_TLS_CERT_FILE and SEALPOST_HTTP_TLS_KEY_FILE go together",
		)
	}
	return c, nil
}

func (o Option) lookup(fromFile, overrides map[string]string) (string, error) {
	if v, ok := overrides[o.Env]; ok {
		return v, nil
	}
	if v, ok := os.LookupEnv(o.Env); ok {
		return v, nil
	}
	if o.Secret {
		if path, ok := os.LookupEnv(o.Env + "_FILE"); ok {
			b, err := os.ReadFile(path)
			if err != nil {
				return "", fmt.Errorf("%s_FILE: cannot read the file it names", o.Env)
			}
			return strings.TrimRight(string(b), "\r\n"), nil
		}
	}
	if v, ok := fromFile[o.Env]; ok {
		return v, nil
	}
	return o.Default, nil
}

// readFile parses NAME=value lines; blank lines and # comments are skipped.
// Errors name the line number, never the line (it may hold a secret).
func readFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	defer f.Close()

	known := map[string]bool{}
	for _, o := range Options {
		known[o.Env] = true
	}
	out := map[string]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		name, value, ok := strings.Cut(line, "=")
		name = strings.TrimSpace(name)
		if !ok || !known[name] {
			return nil, fmt.Errorf(
				"config file line %d: expected SEALPOST_NAME=value with a known name",
				n,
			)
		}
		out[name] = strings.Trim(strings.TrimSpace(value), `"`)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("config file: %w", err)
	}
	return out, nil
}

// Describe lists every option with its default and current value, secrets
// shown only as set or unset.
func (c *Config) Describe(file string) []string {
	fromFile, _ := readFile(file)
	var out []string
	for _, o := range Options {
		v, _ := o.lookup(fromFile, nil)
		shown := v
		if o.Secret {
			shown = "(unset)"
			if v != "" {
				shown = "(set)"
			}
		}
		out = append(out, fmt.Sprintf("%s=%s", o.Env, shown))
	}
	sort.Strings(out)
	return out
}

func setDatabaseURL(c *Config, v string) error {
	c.DatabaseURL = v
	if v == "" || strings.HasPrefix(v, "postgres://") || strings.HasPrefix(v, "postgresql://") {
		return nil
	}
	return errors.New("must be a postgres:// URL or unset")
}

func setFrom(c *Config, v string) error {
	c.From = v
	if v == "" {
		return nil
	}
	if strings.ContainsAny(v, "\r\n\x00") {
		return errors.New("must be a single line")
	}
	if _, err := mail.ParseAddress(v); err != nil {
		return errors.New("must be an address such as \"Shop <noreply@shop.example>\"")
	}
	return nil
}

func setPublicURL(c *Config, v string) error {
	c.PublicURL = strings.TrimRight(v, "/")
	if v == "" {
		return nil
	}
	u, err := url.Parse(v)
	if err != nil || u.Host == "" || u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return errors.New("must be a base URL such as https://mail.shop.example")
	}
	if u.Scheme != "https" && !(u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
		return errors.New("must use https (http only for localhost)")
	}
	return nil
}

func isLoopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && ip.IsLoopback()
}

func setRelayTLS(c *Config, v string) error {
	c.RelayTLS = v
	return oneOf(v, "starttls", "implicit")
}

func nonEmpty(v string) error {
	if v == "" {
		return errors.New("must not be empty")
	}
	return nil
}

func hostPort(v string) error {
	if _, _, err := net.SplitHostPort(v); err != nil {
		return errors.New("must be host:port")
	}
	return nil
}

func oneOf(v string, allowed ...string) error {
	for _, a := range allowed {
		if v == a {
			return nil
		}
	}
	return fmt.Errorf("must be one of %s", strings.Join(allowed, ", "))
}

func setInt(dst *int, v string, lo, hi int) error {
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		return fmt.Errorf("must be a whole number from %d to %d", lo, hi)
	}
	*dst = n
	return nil
}

func setDuration(dst *time.Duration, v string) error {
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return errors.New("must be a duration such as 30s")
	}
	*dst = d
	return nil
}
