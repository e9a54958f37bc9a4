package app

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/sealpost/sealpost/gateway/audit"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/clientaddr"
	"github.com/sealpost/sealpost/gateway/compliance"
	"github.com/sealpost/sealpost/gateway/mime"
	"github.com/sealpost/sealpost/gateway/portal"
	"github.com/sealpost/sealpost/gateway/sealed"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/webhook"
	"github.com/sealpost/sealpost/templates"
)

// codeTemplate is the one-time code email. It carries only the code.
var codeTemplate = templates.Template{
	Name:    portal.CodeTemplateName,
	Subject: "Your verification code",
	Text: "Your one-time code is {{.code}}.\n\nIt is valid for 10 minutes. If you did not ask " +
		"for it, you can ignore this email.\n",
	Variables: map[string]templates.Variable{"code": {Type: templates.TypeString, Required: true}},
}

// EnsureMasterKey creates the master key and portal secret files when they
// do not exist yet.
func EnsureMasterKey(masterKeyFile, secretFile string) error {
	if _, err := os.Stat(masterKeyFile); errors.Is(err, os.ErrNotExist) {
		if err := sealed.GenerateKeyringFile(masterKeyFile); err != nil {
			return fmt.Errorf("create master key: %w", err)
		}
	}
	_, err := portal.LoadOrCreateSecret(secretFile)
	return err
}

// setupPortal enables sensitive payloads when a master key exists (dev
// creates one). Without one, messages with a sensitive payload are refused.
func (a *App) setupPortal(
	ctx context.Context,
	cat *catalog.Catalog,
	dev bool,
) (*portal.Service, error) {
	cfg := a.cfg
	a.catalog = cat
	if dev {
		if err := EnsureMasterKey(cfg.MasterKeyFile, cfg.PortalSecretFile); err != nil {
			return nil, err
		}
	}
	if _, err := os.Stat(cfg.MasterKeyFile); errors.Is(err, os.ErrNotExist) {
		a.logger.Info(
			"sensitive payloads disabled: no master key (run `sealpost keys init-master`)",
		)
		return nil, nil
	}
	kr, err := sealed.LoadKeyring(cfg.MasterKeyFile)
	if err != nil {
		return nil, fmt.Errorf("master key: %w", err)
	}
	if _, err := os.Stat(cfg.PortalSecretFile); errors.Is(err, os.ErrNotExist) {
		return nil, errors.New("portal secret missing; run `sealpost keys init-master`")
	}
	secret, err := portal.LoadOrCreateSecret(cfg.PortalSecretFile)
	if err != nil {
		return nil, err
	}
	if cfg.PublicURL == "" && !dev {
		return nil, errors.New("SEALPOST_PUBLIC_URL is required with a master key: " +
			"the https:// address recipients open portal links at")
	}
	p, err := portal.New(portal.Config{DB: a.db, KEK: kr, Secret: secret, BaseURL: cfg.PublicURL,
		Logger: a.logger.With("component", "portal"), SendCode: a.sendPortalCode,
		OnEvent: a.portalEvent})
	if err != nil {
		return nil, err
	}
	if err := a.ensureTemplate(ctx, codeTemplate); err != nil {
		return nil, err
	}
	return p, nil
}

// confirmTemplate is the double opt-in confirmation email. It is
// transactional and carries no List-Unsubscribe header.
var confirmTemplate = templates.Template{
	Name:    "sealpost-consent-confirm",
	Subject: "Please confirm your subscription",
	Text: "Please confirm that you want to receive offers by email:\n{{.confirm_url}}\n\n" +
		"If you did not ask for this, ignore this email and nothing will change.\n",
	Variables: map[string]templates.Variable{
		"confirm_url": {Type: templates.TypeURL, Required: true},
	},
}

// ensureTemplate saves a built-in template if it is missing.
func (a *App) ensureTemplate(ctx context.Context, t templates.Template) error {
	if _, err := a.catalog.Get(ctx, t.Name, 0); errors.Is(err, catalog.ErrNotFound) {
		if _, err := a.catalog.Save(ctx, &t, "sealpost"); err != nil {
			return fmt.Errorf("save the built-in template %s: %w", t.Name, err)
		}
		return nil
	} else if err != nil {
		return err
	}
	return nil
}

// sendConfirmation queues a double opt-in confirmation mail.
func (a *App) sendConfirmation(ctx context.Context, email, confirmURL string) error {
	return a.sendInternal(
		ctx,
		confirmTemplate.Name,
		email,
		"",
		map[string]string{"confirm_url": confirmURL},
	)
}

// sendPortalCode queues the one-time code email to the recipient of the
// message the link belongs to, through the same pipeline (DKIM, verified
// TLS) as every message. The code sits in that message's data; it is of
// no use without the link's token, which is never stored.
func (a *App) sendPortalCode(ctx context.Context, linkMessageID, code string) error {
	orig, err := a.db.GetMessage(ctx, linkMessageID)
	if err != nil {
		return err
	}
	return a.sendInternal(ctx, portal.CodeTemplateName, orig.Recipient, orig.RecipientName,
		map[string]string{"code": code})
}

// sendInternal queues a message the gateway itself sends (codes,
// confirmations) through the same pipeline as every message.
func (a *App) sendInternal(ctx context.Context, templateName, recipient, name string,
	values map[string]string,
) error {
	entry, err := a.catalog.Get(ctx, templateName, 0)
	if err != nil {
		return err
	}
	id, err := uuid.NewV7()
	if err != nil {
		return err
	}
	data, err := json.Marshal(values)
	if err != nil {
		return err
	}
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	hash := sha256.Sum256(nonce[:])
	now := time.Now().UTC()
	_, _, err = a.queue.Accept(ctx, &store.Message{
		ID: id.String(), APIKeyID: "portal", RequestHash: hash[:],
		TemplateName: entry.Template.Name, TemplateVersion: entry.Template.Version,
		Category: "transactional", Recipient: recipient, RecipientName: name,
		Data: string(data), Headers: "{}", RFCMessageID: mime.NewMessageID(a.from.Domain()),
		Status: store.StatusQueued, CreatedAt: now,
	})
	return err
}

// setupCompliance builds the consent and suppression service. Unsubscribe
// links are signed with a key derived from the portal secret (created with
// the master key, or by dev mode). Without that secret marketing mail is
// refused, since its unsubscribe links could not be honoured.
func (a *App) setupCompliance(ctx context.Context, dev bool) (*compliance.Service, error) {
	cfg := a.cfg
	var key []byte
	if _, err := os.Stat(cfg.PortalSecretFile); err == nil || dev {
		secret, err := portal.LoadOrCreateSecret(cfg.PortalSecretFile)
		if err != nil {
			return nil, err
		}
		mac := hmac.New(sha256.New, secret)
		mac.Write([]byte("sealpost unsubscribe key v1"))
		key = mac.Sum(nil)
	} else {
		a.logger.Info("marketing mail disabled: no portal secret for unsubscribe links " +
			"(run `sealpost keys init-master`)")
	}
	if key != nil {
		if err := a.ensureTemplate(ctx, confirmTemplate); err != nil {
			return nil, err
		}
	}
	return compliance.New(a.db, key, cfg.PublicURL, a.logger.With("component", "compliance")), nil
}

// complianceChanged tells the sender's backend, in the same transaction,
// when a recipient unsubscribed from a message.
// Every consent and suppression change is also an audit event in the same
// transaction.
func (a *App) complianceChanged(ctx context.Context, tx *store.Tx, c compliance.Change) error {
	if c.Kind == "suppression.added" && c.Reason == compliance.ReasonUnsubscribe &&
		c.MessageID != "" {
		err := a.queue.NotifyTx(ctx, tx, webhook.TypeUnsubscribed, c.MessageID, "sent", 0, "", "")
		if err != nil {
			return err
		}
	}
	objectType := "consent_event"
	if strings.HasPrefix(c.Kind, "suppression.") {
		objectType = "suppression"
	}
	details := map[string]string{}
	if c.MessageID != "" {
		details["message_id"] = c.MessageID
	}
	if c.Reason != "" {
		details["reason"] = c.Reason
	}
	return audit.Append(ctx, tx, audit.Event{Actor: c.Actor, Action: c.Kind,
		ObjectType: objectType, ObjectID: c.ObjectID, Details: details})
}

// portalEvent counts a portal event and records it in the audit log.
func (a *App) portalEvent(ctx context.Context, kind, messageID, remote string) {
	a.metrics.Portal(kind)
	err := audit.AppendNow(context.WithoutCancel(ctx), a.db, audit.Event{Actor: "recipient",
		Action: "portal." + kind, ObjectType: "message", ObjectID: messageID,
		RemoteAddr: clientaddr.Truncate(remote)})
	if err != nil {
		a.logger.Error("audit event not recorded", "action", "portal."+kind, "err", err)
	}
}
