package queue

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/riverqueue/river"

	"github.com/sealpost/sealpost/gateway/store"
)

// MaxCompletionBatch bounds how many attempt outcomes share one transaction.
const MaxCompletionBatch = 64

// completion is one attempt's outcome waiting to be written.
type completion struct {
	ctx   context.Context // the job's context, which carries River's client
	job   *river.Job[DeliverArgs]
	m     *store.Message
	out   *Outcome
	retry bool
	at    time.Time
	done  chan error
}

// completer writes attempt outcomes and completes their jobs. Under load it
// groups the outcomes that are waiting into one transaction (a group
// commit): each outcome is still written together with its own job's
// completion, but many share one commit, which is most of the cost. When a
// group fails, each outcome is retried in a transaction of its own so that
// one bad row cannot fail the others.
type completer struct {
	q     *Queue
	in    chan *completion
	stop  chan struct{}
	ended chan struct{}
}

func newCompleter(q *Queue) *completer {
	return &completer{q: q, in: make(chan *completion), stop: make(chan struct{}),
		ended: make(chan struct{})}
}

// start runs n writers; more than one lets a commit overlap the next group.
func (c *completer) start(n int) {
	var wg sync.WaitGroup
	for range n {
		wg.Go(c.loop)
	}
	go func() {
		wg.Wait()
		close(c.ended)
	}()
}

func (c *completer) loop() {
	batch := make([]*completion, 0, MaxCompletionBatch)
	for {
		select {
		case first := <-c.in:
			batch = append(batch[:0], first)
		drain:
			for len(batch) < MaxCompletionBatch {
				select {
				case next := <-c.in:
					batch = append(batch, next)
				default:
					break drain
				}
			}
			c.write(batch)
		case <-c.stop:
			return
		}
	}
}

// submit hands an outcome to the completer and waits until it is written.
func (c *completer) submit(cp *completion) error {
	cp.done = make(chan error, 1)
	select {
	case c.in <- cp:
	case <-c.ended:
		// The completer has stopped (only after the River client has); write
		// the outcome directly.
		return c.writeOne(cp)
	}
	return <-cp.done
}

func (c *completer) close() {
	close(c.stop)
	<-c.ended
}

func (c *completer) write(batch []*completion) {
	if len(batch) == 1 {
		batch[0].done <- c.writeOne(batch[0])
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(batch[0].ctx), bookkeepingTimeout)
	defer cancel()
	err := c.q.db.InTx(ctx, func(tx *store.Tx) error {
		for _, cp := range batch {
			if err := c.apply(ctx, tx, cp); err != nil {
				return err
			}
		}
		return nil
	})
	if err == nil {
		for _, cp := range batch {
			cp.done <- nil
		}
		return
	}
	for _, cp := range batch {
		cp.done <- c.writeOne(cp)
	}
}

func (c *completer) writeOne(cp *completion) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(cp.ctx), bookkeepingTimeout)
	defer cancel()
	return c.q.db.InTx(ctx, func(tx *store.Tx) error { return c.apply(ctx, tx, cp) })
}

// apply writes one outcome and, unless the message is to be retried,
// completes its job, inside tx. Statements run under txCtx's deadline with
// the job context's values, which River's JobCompleteTx needs.
func (c *completer) apply(txCtx context.Context, tx *store.Tx, cp *completion) error {
	ctx := context.WithoutCancel(cp.ctx)
	if deadline, ok := txCtx.Deadline(); ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	if cp.out != nil {
		err := tx.RecordAttempt(ctx, cp.m.ID, store.Attempt{
			Status:       cp.out.Status,
			ReplyCode:    cp.out.ReplyCode,
			EnhancedCode: cp.out.EnhancedCode,
			Error:        cp.out.Reason,
			At:           cp.at,
		})
		if err != nil {
			return err
		}
		o := cp.out
		err = c.q.NotifyTx(ctx, tx, string(o.Status), cp.m.ID, string(o.Status), o.ReplyCode,
			o.EnhancedCode, o.Reason)
		if err != nil {
			return err
		}
		if hook := c.q.cfg.OnRecordTx; hook != nil {
			if err := hook(ctx, tx, cp.m, *o); err != nil {
				return err
			}
		}
	}
	if cp.retry {
		return nil
	}
	err := c.q.engine.completeTx(ctx, tx, cp.job)
	if errors.Is(err, errJobNotRunning) {
		return nil
	}
	return err
}

// completionWriters is how many groups can be in flight at once.
var completionWriters = 1
