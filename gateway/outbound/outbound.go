// Package outbound turns a stored message into mail and hands it to the
// relay: it renders the message's template version with its data, builds
// the MIME message, DKIM-signs it and sends it over verified TLS. It
// implements the queue's Deliverer and reports each attempt as an outcome
// whose reason carries no address or content.
//
// It does not decide retries (the queue does) and does not talk SMTP itself
// (the delivery package does).
package outbound

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"time"

	"github.com/sealpost/sealpost/dkim"
	"github.com/sealpost/sealpost/gateway/address"
	"github.com/sealpost/sealpost/gateway/catalog"
	"github.com/sealpost/sealpost/gateway/delivery"
	"github.com/sealpost/sealpost/gateway/mime"
	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/queue"
	"github.com/sealpost/sealpost/templates"
)

// Relay sends finished messages; *delivery.Relay is the real one.
type Relay interface {
	Send(ctx context.Context, env delivery.Envelope, msg []byte) (*delivery.Receipt, error)
}

// Outbound is a queue.Deliverer.
type Outbound struct {
	catalog *catalog.Catalog
	relay   Relay
	signer  *dkim.Signer
	from    address.Address
	logger  *slog.Logger
	now     func() time.Time
	// portalURL gives a message's portal link; nil when the portal is off.
	portalURL      func(messageID string) string
	suppressed     func(ctx context.Context, email, category string) (string, bool, error)
	unsubscribeURL func(messageID string) string
	returnPath     func(messageID string) string
}

// SetReturnPath sends each message from its own envelope sender (VERP), so
// that bounces can be tied to the message.
func (o *Outbound) SetReturnPath(fn func(messageID string) string) { o.returnPath = fn }

// PortalVariable is the template variable the portal link is rendered into.
const PortalVariable = "portal_url"

// SetCompliance makes every attempt re-check suppression just before it
// sends, and gives marketing mail RFC 8058 one-click unsubscribe headers.
func (o *Outbound) SetCompliance(
	suppressed func(ctx context.Context, email, category string) (string, bool, error),
	unsubscribeURL func(messageID string) string,
) {
	o.suppressed, o.unsubscribeURL = suppressed, unsubscribeURL
}

// SetPortal makes templates that declare PortalVariable render each
// message's portal link there.
func (o *Outbound) SetPortal(url func(messageID string) string) { o.portalURL = url }

// New returns an Outbound that sends as from, signing with signer.
func New(c *catalog.Catalog, relay Relay, signer *dkim.Signer, from address.Address,
	logger *slog.Logger,
) *Outbound {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Outbound{
		catalog: c,
		relay:   relay,
		signer:  signer,
		from:    from,
		logger:  logger,
		now:     time.Now,
	}
}

// Build renders m and returns the signed message bytes ready for DATA.
func (o *Outbound) Build(ctx context.Context, m *store.Message) ([]byte, error) {
	body, err := o.compose(ctx, m)
	if err != nil {
		return nil, err
	}
	sig, err := o.signer.Sign(body)
	if err != nil {
		return nil, &buildError{reason: "DKIM signing failed", cause: err, temporary: true}
	}
	out := make([]byte, 0, len(sig)+len(body))
	out = append(out, sig...)
	return append(out, body...), nil
}

// Check builds m as Build would, without signing, so that a message which
// could never be built is refused when it is accepted rather than failing
// later. A refusal is a *mime.FieldError naming the field, or a
// *templates.RenderError; neither carries the data.
func (o *Outbound) Check(ctx context.Context, m *store.Message) error {
	_, err := o.compose(ctx, m)
	var be *buildError
	if errors.As(err, &be) && be.cause != nil {
		return be.cause
	}
	return err
}

// compose renders m into unsigned MIME bytes.
func (o *Outbound) compose(ctx context.Context, m *store.Message) ([]byte, error) {
	entry, err := o.catalog.Get(ctx, m.TemplateName, m.TemplateVersion)
	if err != nil {
		return nil, &buildError{reason: "template version not available", cause: err,
			temporary: !errors.Is(err, catalog.ErrNotFound)}
	}
	dec := json.NewDecoder(bytes.NewReader([]byte(m.Data)))
	dec.UseNumber()
	var data map[string]any
	if err := dec.Decode(&data); err != nil {
		return nil, &buildError{reason: "stored data is not readable", cause: err}
	}
	if _, declared := entry.Template.Variables[PortalVariable]; declared && o.portalURL != nil {
		if data == nil {
			data = map[string]any{}
		}
		data[PortalVariable] = o.portalURL(m.ID)
	}
	rendered, err := entry.Compiled.Render(data)
	if err != nil {
		var re *templates.RenderError
		if errors.As(err, &re) {
			return nil, &buildError{reason: re.Error(), cause: err}
		}
		return nil, &buildError{reason: "rendering failed", cause: err}
	}
	to, err := address.ParseWithName(m.RecipientName, m.Recipient)
	if err != nil {
		return nil, &buildError{reason: "stored recipient is not valid", cause: err}
	}
	var extra map[string]string
	if err := json.Unmarshal([]byte(m.Headers), &extra); err != nil {
		return nil, &buildError{reason: "stored headers are not readable", cause: err}
	}
	msg := &mime.Message{
		From:      o.from,
		To:        []address.Address{to},
		Subject:   rendered.Subject,
		Date:      o.now(),
		MessageID: m.RFCMessageID,
		Text:      rendered.Text,
		HTML:      rendered.HTML,
	}
	for name, value := range extra {
		msg.Headers = append(msg.Headers, mime.Header{Name: name, Value: value})
	}
	if m.Category == "marketing" && o.unsubscribeURL != nil {
		msg.Headers = append(msg.Headers,
			mime.Header{Name: "List-Unsubscribe", Value: "<" + o.unsubscribeURL(m.ID) + ">"},
			mime.Header{Name: "List-Unsubscribe-Post", Value: "List-Unsubscribe=One-Click"})
	}
	body, err := msg.Bytes()
	if err != nil {
		return nil, &buildError{reason: "message could not be built: " + err.Error(), cause: err}
	}
	return body, nil
}

// Deliver makes one attempt for m.
func (o *Outbound) Deliver(ctx context.Context, m *store.Message) queue.Outcome {
	if o.suppressed != nil {
		reason, suppressed, err := o.suppressed(ctx, m.Recipient, m.Category)
		if err != nil {
			return queue.Outcome{Status: store.StatusDeferred, Reason: "suppression check failed"}
		}
		if suppressed {
			return queue.Outcome{
				Status: store.StatusSuppressed,
				Reason: "recipient suppressed: " + reason,
			}
		}
	}
	raw, err := o.Build(ctx, m)
	if err != nil {
		var be *buildError
		if errors.As(err, &be) {
			o.logger.Error("message not built", "message", m, "reason", be.reason)
			status := store.StatusFailed
			if be.temporary {
				status = store.StatusDeferred
			}
			return queue.Outcome{Status: status, Reason: be.reason}
		}
		return queue.Outcome{Status: store.StatusDeferred, Reason: "message could not be built"}
	}

	from := o.from.Email
	if o.returnPath != nil {
		if rp := o.returnPath(m.ID); rp != "" {
			from = rp
		}
	}
	receipt, err := o.relay.Send(ctx, delivery.Envelope{From: from, To: []string{m.Recipient}}, raw)
	if err != nil {
		return outcomeOf(ctx, err)
	}
	return queue.Outcome{
		Status:       store.StatusSent,
		ReplyCode:    receipt.Code,
		EnhancedCode: receipt.EnhancedCode,
	}
}

func outcomeOf(ctx context.Context, err error) queue.Outcome {
	var de *delivery.Error
	if !errors.As(err, &de) {
		if ctx.Err() != nil {
			return queue.Outcome{Status: store.StatusDeferred, Reason: "attempt interrupted"}
		}
		return queue.Outcome{Status: store.StatusDeferred, Reason: "relay unavailable"}
	}
	out := queue.Outcome{ReplyCode: de.Code, EnhancedCode: de.EnhancedCode, Reason: de.Error()}
	switch {
	case de.Unknown:
		// The relay may have the message: a retry reuses its Message-ID,
		// so a receiver that saw it already can tell it is the same one.
		out.Status = store.StatusDeferred
		out.Reason = "delivery unknown, will retry with the same Message-ID: " + de.Error()
	case de.Temporary:
		out.Status = store.StatusDeferred
	default:
		out.Status = store.StatusFailed
	}
	return out
}

// buildError is a failure before anything was sent.
type buildError struct {
	reason    string
	cause     error
	temporary bool
}

func (e *buildError) Error() string { return e.reason }
func (e *buildError) Unwrap() error { return e.cause }
