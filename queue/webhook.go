package queue

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/riverqueue/river"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/webhook"
)

// WebhookQueue carries webhook deliveries apart from mail.
const WebhookQueue = "webhook"

// WebhookArgs are a webhook job's arguments: the whole event, which is
// PHI-free by construction (ids, status, codes, a reason token), so every
// retry sends the same event id.
type WebhookArgs struct {
	Event webhook.Event `json:"event"`
}

// Kind names the job kind in River's table.
func (WebhookArgs) Kind() string { return "sealpost_webhook" }

// InsertOpts puts webhook jobs on their own queue with their own attempts.
func (WebhookArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: WebhookQueue, MaxAttempts: webhook.MaxAttempts}
}

type webhookWorker struct {
	river.WorkerDefaults[WebhookArgs]

	sender *webhook.Sender
}

func (w *webhookWorker) Work(ctx context.Context, job *river.Job[WebhookArgs]) error {
	err := w.sender.Send(ctx, job.Args.Event)
	if webhook.IsPermanent(err) {
		return river.JobCancel(fmt.Errorf("webhook refused: %w", err))
	}
	return err
}

// NextRetry spaces webhook retries by the webhook package's backoff.
func (w *webhookWorker) NextRetry(job *river.Job[WebhookArgs]) time.Time {
	return time.Now().Add(webhook.Backoff(job.Attempt))
}

// Timeout bounds one webhook attempt.
func (w *webhookWorker) Timeout(*river.Job[WebhookArgs]) time.Duration { return time.Minute }

// NotifyTx queues a webhook event inside tx, so the event is sent if and
// only if the change it reports commits. It does nothing when no webhook
// is configured.
func (q *Queue) NotifyTx(ctx context.Context, tx *store.Tx, typ, messageID, status string,
	code int, enhanced, reason string,
) error {
	if q.cfg.Webhook == nil {
		return nil
	}
	e, err := webhook.NewEvent(typ, messageID, status, time.Now())
	if err != nil {
		return err
	}
	e.ReplyCode, e.EnhancedCode, e.Reason = code, enhanced, reasonToken(reason)
	if e.Validate() != nil {
		e.EnhancedCode, e.Reason = "", ""
	}
	return q.engine.insertAnyTx(ctx, tx, WebhookArgs{Event: e})
}

// reasonToken turns a value-free reason into the webhook's token alphabet
// (lower-case letters, digits, space and _.:-), at most 128 characters.
func reasonToken(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r >= 'A' && r <= 'Z':
			return r + ('a' - 'A')
		case r >= 'a' && r <= 'z',
			r >= '0' && r <= '9',
			r == ' ',
			r == '_',
			r == '.',
			r == ':',
			r == '-':
			return r
		}
		return ' '
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > webhook.MaxReasonLength {
		s = s[:webhook.MaxReasonLength]
	}
	return s
}
