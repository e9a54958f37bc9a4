package app

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/bounce"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/webhook"
	"github.com/sealpost/sealpost/queue"
)

// setupBounces configures VERP return paths and, when an address is set,
// the inbound SMTP server for bounces and complaints. The VERP key is
// derived from the portal secret, so every replica computes the same one.
func (a *App) setupBounces() (*bounce.VERP, error) {
	cfg := a.cfg
	if cfg.BounceDomain == "" {
		if cfg.BounceAddr != "" {
			return nil, errors.New("SEALPOST_BOUNCE_ADDR needs SEALPOST_BOUNCE_DOMAIN")
		}
		return nil, nil
	}
	secret, err := portal.LoadOrCreateSecret(cfg.PortalSecretFile)
	if err != nil {
		return nil, fmt.Errorf("bounce domain needs the portal secret: %w", err)
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte("sealpost verp key v1"))
	v := &bounce.VERP{Prefix: "bounces", Domain: cfg.BounceDomain, Secret: mac.Sum(nil)}
	if err := v.Validate(); err != nil {
		return nil, fmt.Errorf("SEALPOST_BOUNCE_DOMAIN: %w", err)
	}
	if cfg.BounceAddr == "" {
		return v, nil
	}
	srv, err := bounce.NewServer(bounce.ServerConfig{VERP: *v, Hostname: cfg.BounceDomain},
		a.handleReports, a.logger.With("component", "bounces"))
	if err != nil {
		return nil, err
	}
	l, err := net.Listen("tcp", cfg.BounceAddr)
	if err != nil {
		return nil, fmt.Errorf("bounce listen: %w", err)
	}
	a.bounceServer, a.bounceAddr = srv, l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	return v, nil
}

// BounceAddr is where the inbound bounce server listens ("" when off).
func (a *App) BounceAddr() string { return a.bounceAddr }

// handleReports applies bounce and complaint reports to their messages:
// a hard bounce suppresses the address for all mail, a complaint for
// marketing, each with a webhook event and an audit event, in one
// transaction per report. The address suppressed is the one the message
// was sent to, never one taken from the report.
func (a *App) handleReports(ctx context.Context, reports []bounce.Report) error {
	for _, r := range reports {
		if r.MessageID == "" {
			continue
		}
		m, err := a.db.GetMessage(ctx, r.MessageID)
		if errors.Is(err, store.ErrNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		var scope, reason, event string
		switch {
		case r.Kind == bounce.KindComplaint:
			scope, reason, event = compliance.ScopeMarketing, compliance.ReasonComplaint, webhook.TypeComplained
		case r.Kind == bounce.KindBounce && r.Hard:
			scope, reason, event = compliance.ScopeAll, compliance.ReasonHardBounce, webhook.TypeBounced
		case r.Kind == bounce.KindBounce:
			event = webhook.TypeBounced
		default:
			continue
		}
		err = a.db.InTx(ctx, func(tx *store.Tx) error {
			if scope != "" {
				if _, err := a.comply.Suppress(ctx, tx, m.Recipient, scope, reason, "bounce",
					m.ID, "system"); err != nil {
					return err
				}
			}
			if err := a.queue.NotifyTx(ctx, tx, event, m.ID, string(m.Status), 0, r.Status,
				string(r.Kind)); err != nil {
				return err
			}
			return audit.Append(ctx, tx, audit.Event{Actor: "system", Action: "message." + event,
				ObjectType: "message", ObjectID: m.ID,
				Details: map[string]string{"status": r.Status, "hard": fmt.Sprint(r.Hard)}})
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// refusedAtRCPT suppresses an address that a relay refused with a hard
// 5xx at RCPT, in the transaction that records the failure: a synchronous
// bounce counts like a returned one.
func (a *App) refusedAtRCPT(
	ctx context.Context,
	tx *store.Tx,
	m *store.Message,
	o queue.Outcome,
) error {
	// A one-time code or confirmation link is kept only until its mail is
	// sent (or given up on); after that the row holds no live secret.
	if (m.TemplateName == portal.CodeTemplateName || m.TemplateName == confirmTemplate.Name) &&
		o.Status != store.StatusDeferred {
		if err := tx.ClearMessageData(ctx, m.ID); err != nil {
			return err
		}
	}
	if o.Status != store.StatusFailed || o.ReplyCode < 500 ||
		!strings.HasPrefix(o.Reason, "smtp rcpt") {
		return nil
	}
	if hard, ok := bounce.Classify(o.EnhancedCode); !ok || !hard {
		return nil
	}
	_, err := a.comply.Suppress(
		ctx,
		tx,
		m.Recipient,
		compliance.ScopeAll,
		compliance.ReasonHardBounce,
		"relay",
		m.ID,
		"system",
	)
	return err
}
