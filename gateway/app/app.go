// Package app assembles the gateway from its parts (database, queue,
// templates, DKIM, relay, HTTP API) for `sealpost serve` and, with the
// embedded capture inbox and generated keys, for `sealpost dev`. It owns
// start-up checks and graceful shutdown; the parts own everything else.
package app

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/mail"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/api"
	"github.com/sealpost/sealpost/gateway/apikey"
	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/bounce"
	"github.com/sealpost/sealpost/gateway/capture"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/config"
	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/metrics"
	"github.com/sealpost/sealpost/gateway/outbound"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/webhook"
	"github.com/sealpost/sealpost/queue"
)

// Options selects how the gateway runs.
type Options struct {
	Config *config.Config
	Dev    bool
	// CaptureAddr is where dev mode's capture SMTP server listens; "" means
	// a free port on 127.0.0.1.
	CaptureAddr string
	Logger      *slog.Logger
	// Out receives the few lines a person starting dev mode needs (the API
	// key, the addresses). Nil means os.Stdout.
	Out io.Writer
}

// App is a running gateway.
type App struct {
	cfg      *config.Config
	logger   *slog.Logger
	out      io.Writer
	db       *store.DB
	queue    *queue.Queue
	relay    *delivery.Relay
	capture  *capture.Server
	api      *api.Server
	http     *http.Server
	listener net.Listener
	devKey   string
	// captureAddr is recorded when the capture listener is bound, before
	// its server goroutine runs.
	captureAddr  string
	keys         *dkim.Keystore
	from         address.Address
	portal       *portal.Service
	catalog      *catalog.Catalog
	metrics      *metrics.Metrics
	comply       *compliance.Service
	headWritten  time.Time
	verp         *bounce.VERP
	bounceServer *bounce.Server
	bounceAddr   string
}

// New builds the gateway and binds its listeners, but does not start
// working jobs or serving requests; Run does.
func New(ctx context.Context, opts Options) (_ *App, err error) {
	a := &App{cfg: opts.Config, logger: opts.Logger, out: opts.Out}
	if a.logger == nil {
		a.logger = slog.New(slog.DiscardHandler)
	}
	if a.out == nil {
		a.out = os.Stdout
	}
	defer func() {
		if err != nil {
			a.closeAll()
		}
	}()

	cfg := a.cfg
	a.db, err = store.Open(ctx, cfg.DatabaseURL, cfg.DataDir)
	if err != nil {
		return nil, err
	}
	if opts.Dev {
		if _, err := a.db.MigrateUp(ctx); err != nil {
			return nil, fmt.Errorf("migrate: %w", err)
		}
	} else if err := a.db.CheckSchema(ctx); err != nil {
		return nil, err
	}

	if opts.Dev && cfg.From == "" {
		cfg.From = DevFrom
	}
	if cfg.From == "" {
		return nil, errors.New("SEALPOST_FROM is required: the From address of every message")
	}
	a.from, err = parseFrom(cfg.From)
	if err != nil {
		return nil, err
	}

	a.keys, err = dkim.OpenKeystore(cfg.DKIMDir)
	if err != nil {
		return nil, fmt.Errorf("dkim keys: %w", err)
	}
	if opts.Dev {
		if err := a.ensureDevDKIMKey(); err != nil {
			return nil, err
		}
	}
	signer, err := a.signerFor(a.from.Domain())
	if err != nil {
		return nil, err
	}

	var relayCfg delivery.Config
	if opts.Dev {
		relayCfg, err = a.startCapture(opts.CaptureAddr)
	} else {
		relayCfg, err = a.relayConfig()
	}
	if err != nil {
		return nil, err
	}
	a.relay, err = delivery.NewRelay(relayCfg, a.logger.With("component", "relay"))
	if err != nil {
		return nil, fmt.Errorf("relay: %w", err)
	}

	a.metrics = metrics.New()
	cat := catalog.New(a.db)
	out := outbound.New(cat, a.relay, signer, a.from, a.logger.With("component", "outbound"))
	a.portal, err = a.setupPortal(ctx, cat, opts.Dev)
	if err != nil {
		return nil, err
	}
	qcfg := queue.Config{
		Workers:     cfg.Workers,
		MaxAttempts: cfg.MaxAttempts,
		Logger:      a.logger.With("component", "queue"),
		OnOutcome:   func(o queue.Outcome) { a.metrics.Attempt(string(o.Status), o.ReplyCode) },
	}
	if a.portal != nil {
		out.SetPortal(a.portal.URL)
	}
	qcfg.Purge = a.purge
	if cfg.WebhookURL != "" {
		secrets, err := webhook.ParseSecrets(cfg.WebhookSecrets)
		if err != nil {
			return nil, fmt.Errorf("SEALPOST_WEBHOOK_SECRETS: %w", err)
		}
		qcfg.Webhook, err = webhook.NewSender(cfg.WebhookURL, secrets, nil,
			a.logger.With("component", "webhook"))
		if err != nil {
			return nil, fmt.Errorf("SEALPOST_WEBHOOK_URL: %w", err)
		}
	}
	a.comply, err = a.setupCompliance(ctx, opts.Dev)
	if err != nil {
		return nil, err
	}
	out.SetCompliance(a.comply.Suppressed, a.comply.UnsubscribeURL)
	a.comply.OnChange = a.complianceChanged
	qcfg.OnRecordTx = a.refusedAtRCPT
	a.verp, err = a.setupBounces()
	if err != nil {
		return nil, err
	}
	if a.verp != nil {
		out.SetReturnPath(a.verp.Address)
	}
	a.queue, err = queue.New(a.db, out, qcfg)
	if err != nil {
		return nil, err
	}

	a.api = api.New(api.Config{
		DB: a.db, Queue: a.queue, Catalog: cat, Auth: apikey.NewAuthenticator(a.db),
		From: a.from, MaxRequestBytes: cfg.MaxRequestBytes, Logger: a.logger.With("component", "api"),
		Check: out.Check, Portal: a.portal, Metrics: a.metrics, Compliance: a.comply,
		SendConfirmation: a.sendConfirmation, Reports: a.handleReports,
	})
	if opts.Dev {
		if err := a.devSetup(ctx, cat); err != nil {
			return nil, err
		}
	}

	a.listener, err = net.Listen("tcp", cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("http listen: %w", err)
	}
	if cfg.PublicURL == "" && opts.Dev {
		base := "http://" + a.listener.Addr().String()
		if a.portal != nil {
			a.portal.SetBaseURL(base)
		}
		a.comply.SetBaseURL(base)
	}
	a.http = &http.Server{
		Handler:           a.api,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(a.logger.Handler(), slog.LevelDebug),
	}
	if cfg.HTTPTLSCertFile != "" {
		cert, err := tls.LoadX509KeyPair(cfg.HTTPTLSCertFile, cfg.HTTPTLSKeyFile)
		if err != nil {
			return nil, errors.New("http tls: cannot load the certificate and key files")
		}
		a.http.TLSConfig = &tls.Config{
			Certificates: []tls.Certificate{cert},
			MinVersion:   tls.VersionTLS12,
		}
	}
	return a, nil
}

// Retention returns the configured retention windows.
func (a *App) Retention() store.Retention {
	return store.Retention{Messages: a.cfg.RetainMessages, Records: a.cfg.RetainRecords}
}

// purge runs every minute (one replica at a time): expired sensitive
// content, then everything past its retention window.
func (a *App) purge(ctx context.Context) (int64, error) {
	var total int64
	if a.portal != nil {
		n, err := a.portal.Purge(ctx)
		if err != nil {
			return total, err
		}
		total += n
	}
	counts, err := a.db.PurgeRetained(ctx, a.Retention(), time.Now())
	details := map[string]string{}
	for kind, n := range counts {
		total += n
		if n > 0 {
			details[strings.ReplaceAll(kind, " ", "_")] = strconv.FormatInt(n, 10)
		}
	}
	if err != nil {
		return total, err
	}
	if len(details) > 0 || total > 0 {
		err = audit.AppendNow(ctx, a.db, audit.Event{Actor: "system", Action: "retention.run",
			ObjectType: "retention", ObjectID: "purge", Details: details})
	}
	if err == nil && a.cfg.AuditHeadFile != "" && time.Since(a.headWritten) >= AuditHeadInterval {
		if err = audit.WriteHead(ctx, a.db, a.cfg.AuditHeadFile); err == nil {
			a.headWritten = time.Now()
		}
	}
	return total, err
}

// periodicSignature names the periodic jobs this version schedules; a
// replica announcing a different one runs other code.
var periodicSignature = "sealpost_purge@" + queue.PurgeInterval.String()

// announce records this replica and its periodic jobs every minute until
// the returned function is called, and reports replicas that schedule
// different periodic jobs (case BL-17).
func (a *App) announce(ctx context.Context) func() {
	id := newReplicaID()
	check := func() {
		differing, err := a.db.AnnounceReplica(
			ctx,
			id,
			periodicSignature,
			time.Now(),
			3*time.Minute,
		)
		if err != nil {
			a.logger.Warn("replica announcement failed", "err", err)
			return
		}
		if len(differing) > 0 {
			a.logger.Error("other replicas schedule different periodic jobs; run one version",
				"ours", periodicSignature, "theirs", strings.Join(differing, " "))
		}
	}
	check()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				check()
			case <-done:
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
		_ = a.db.RetireReplica(context.WithoutCancel(ctx), id, time.Now().Add(-time.Hour))
	}
}

func newReplicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// AuditHeadInterval is how often the audit chain's head is written out.
const AuditHeadInterval = time.Hour

// DevFrom is dev mode's From address when none is configured.
const DevFrom = "Sealpost Dev <noreply@sealpost.test>"

// HTTPAddr is the address the API listens on.
func (a *App) HTTPAddr() string { return a.listener.Addr().String() }

// DevKey is the API key dev mode created or reused ("" outside dev mode).
func (a *App) DevKey() string { return a.devKey }

// CaptureAddr is the dev capture server's SMTP address ("" outside dev).
func (a *App) CaptureAddr() string { return a.captureAddr }

// Run serves until ctx is cancelled, then shuts down gracefully: stop
// accepting requests, let in-flight deliveries finish for up to the
// configured shutdown timeout, release the rest for retry.
func (a *App) Run(ctx context.Context) error {
	// River stops abruptly, cancelling running jobs, when the context given
	// to Start is cancelled; the graceful stop below is what should end it,
	// so it runs on a context that the shutdown signal does not cancel.
	if err := a.queue.Start(context.WithoutCancel(ctx)); err != nil {
		a.closeAll()
		return fmt.Errorf("start queue: %w", err)
	}
	serveErr := make(chan error, 1)
	go func() {
		var err error
		if a.http.TLSConfig != nil {
			err = a.http.ServeTLS(a.listener, "", "")
		} else {
			err = a.http.Serve(a.listener)
		}
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		serveErr <- err
	}()
	a.logger.Info("gateway started", "http", a.HTTPAddr(), "database", string(a.db.Dialect()))
	if err := audit.AppendNow(ctx, a.db, audit.Event{Actor: "system", Action: "gateway.started",
		ObjectType: "gateway", ObjectID: a.HTTPAddr(),
		Details: map[string]string{"database": string(a.db.Dialect())}}); err != nil {
		a.logger.Error("audit event not recorded", "action", "gateway.started", "err", err)
	}

	stopAnnounce := a.announce(ctx)

	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-serveErr:
	}
	stopAnnounce()
	a.logger.Info("shutting down")

	shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	if err := a.http.Shutdown(shutdownCtx); err != nil {
		a.logger.Warn("http shutdown incomplete", "err", err)
	}
	cancel()

	stopCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), a.cfg.ShutdownTimeout)
	if err := a.queue.Stop(stopCtx); err != nil {
		a.logger.Warn("queue stop incomplete", "err", err)
	}
	cancel()
	a.closeAll()
	a.logger.Info("stopped")
	return runErr
}

func (a *App) closeAll() {
	if a.listener != nil && a.http == nil {
		a.listener.Close()
	}
	if a.relay != nil {
		a.relay.Close()
	}
	if a.capture != nil {
		a.capture.Close()
	}
	if a.bounceServer != nil {
		a.bounceServer.Close()
	}
	if a.db != nil {
		a.db.Close()
	}
}

func parseFrom(s string) (address.Address, error) {
	mb, err := mail.ParseAddress(s)
	if err != nil {
		return address.Address{}, errors.New("SEALPOST_FROM is not a valid address")
	}
	a, err := address.ParseWithName(mb.Name, mb.Address)
	if err != nil {
		return address.Address{}, fmt.Errorf("SEALPOST_FROM: %w", err)
	}
	return a, nil
}

func (a *App) signerFor(domain string) (*dkim.Signer, error) {
	keys, err := a.keys.ForDomain(domain)
	if err != nil && !errors.Is(err, dkim.ErrKeyNotFound) {
		return nil, fmt.Errorf("dkim keys: %w", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("no DKIM key for %s in %s; create one with "+
			"`sealpost dkim keygen --domain %s --selector s1` and publish its TXT record",
			domain, a.keys.Dir(), domain)
	}
	return dkim.NewSigner(keys...)
}

func (a *App) relayConfig() (delivery.Config, error) {
	cfg := a.cfg
	if cfg.RelayHost == "" {
		return delivery.Config{}, errors.New(
			"SEALPOST_RELAY_HOST is required: the mail relay to deliver through",
		)
	}
	rc := delivery.Config{
		Host: cfg.RelayHost, Port: cfg.RelayPort, TLSMode: delivery.TLSMode(cfg.RelayTLS),
		Username: cfg.RelayUsername, Password: cfg.RelayPassword, HeloName: cfg.RelayHelo,
		MaxConns: cfg.RelayMaxConns,
	}
	if cfg.RelayCAFile != "" {
		pem, err := os.ReadFile(cfg.RelayCAFile)
		if err != nil {
			return rc, errors.New("SEALPOST_RELAY_CA_FILE: cannot read the file")
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return rc, errors.New("SEALPOST_RELAY_CA_FILE: no PEM certificate in the file")
		}
		rc.RootCAs = pool
	}
	return rc, nil
}
