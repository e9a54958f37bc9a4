package queue

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/riverqueue/river"

	"github.com/sealpost/sealpost/gateway/store"
)

// bookkeepingTimeout bounds the transaction that records an attempt. It runs
// even when the job's context was cancelled by a shutdown, so that the
// outcome of an attempt that did happen is not lost.
const bookkeepingTimeout = 15 * time.Second

// deliverWorker runs one delivery attempt per job.
type deliverWorker struct {
	river.WorkerDefaults[DeliverArgs]

	q *Queue
}

func (w *deliverWorker) Work(ctx context.Context, job *river.Job[DeliverArgs]) error {
	q := w.q
	m, err := q.db.GetMessage(ctx, job.Args.MessageID)
	if errors.Is(err, store.ErrNotFound) {
		// The row was purged; there is nothing left to deliver.
		return river.JobCancel(errors.New("message no longer exists"))
	}
	if err != nil {
		return err
	}
	if isFinal(m.Status) {
		// A previous attempt finished but its job was rescued before it could
		// complete; never deliver twice.
		return w.finish(ctx, job, m, nil)
	}

	out := q.deliverer.Deliver(ctx, m)
	if out.Status == store.StatusDeferred && job.Attempt >= job.MaxAttempts {
		out.Status = store.StatusFailed
		out.Reason = "gave up after the last retry: " + out.Reason
	}
	if q.cfg.OnOutcome != nil {
		q.cfg.OnOutcome(out)
	}
	q.logger.LogAttrs(ctx, levelFor(out.Status), "delivery attempt",
		slogMessage(m), attr("outcome", string(out.Status)), attr("attempt", job.Attempt),
		attr("reply_code", out.ReplyCode), attr("enhanced_code", out.EnhancedCode),
		attr("reason", out.Reason))
	return w.finish(ctx, job, m, &out)
}

// finish records the attempt and, unless it is to be retried, completes the
// job in the same transaction.
func (w *deliverWorker) finish(ctx context.Context, job *river.Job[DeliverArgs], m *store.Message,
	out *Outcome,
) error {
	retry := out != nil && out.Status == store.StatusDeferred
	err := w.q.completer.submit(
		&completion{ctx: ctx, job: job, m: m, out: out, retry: retry, at: time.Now()},
	)
	if err != nil {
		return fmt.Errorf("record attempt: %w", err)
	}
	if retry {
		// River stores this text on the job; Reason is value-free by contract.
		return &DeferredError{Reason: out.Reason}
	}
	return nil
}

// DeferredError tells River to retry a delivery later.
type DeferredError struct{ Reason string }

func (e *DeferredError) Error() string { return "delivery deferred: " + e.Reason }

func isFinal(s store.Status) bool {
	return s == store.StatusSent || s == store.StatusFailed ||
		s == store.StatusSuppressed || s == store.StatusRejected
}
