package queue

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/riverdriver/riversqlite"
	"github.com/riverqueue/river/rivertype"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/webhook"
)

// Defaults for Config. Retries back off exponentially from DefaultRetryBase to
// DefaultRetryMax; 25 attempts span about a day and a half, after which the
// message fails.
const (
	DefaultWorkersPostgres      = 64
	DefaultWorkersSQLite        = 32
	DefaultMaxAttempts          = 25
	DefaultRetryBase            = 30 * time.Second
	DefaultRetryMax             = 2 * time.Hour
	DefaultJobTimeout           = 3 * time.Minute
	DefaultRescueStuckJobsAfter = 4 * time.Minute
	// Fetch timing: PostgreSQL is woken by LISTEN/NOTIFY, SQLite polls.
	DefaultFetchCooldown         = 2 * time.Millisecond
	DefaultFetchPollPostgres     = 1 * time.Second
	DefaultFetchPollSQLite       = 20 * time.Millisecond
	DefaultCompletedJobRetention = 24 * time.Hour
)

// DeliverQueue is the River queue delivery jobs run on.
const DeliverQueue = "deliver"

// DeliverArgs are a delivery job's arguments: the message id only.
type DeliverArgs struct {
	MessageID string `json:"message_id"`
}

// Kind names the job kind in River's table.
func (DeliverArgs) Kind() string { return "sealpost_deliver" }

// InsertOpts puts delivery jobs on their own queue.
func (DeliverArgs) InsertOpts() river.InsertOpts { return river.InsertOpts{Queue: DeliverQueue} }

// Outcome is what one delivery attempt came to.
type Outcome struct {
	// Status is StatusSent, StatusDeferred (temporary, retry) or StatusFailed
	// (permanent).
	Status       store.Status
	ReplyCode    int
	EnhancedCode string
	// Reason is a value-free description of a failure. It is stored on the
	// message and, for retries, as River's job error.
	Reason string
}

// Deliverer makes one delivery attempt for a message. It must honour ctx and
// must never put addresses or content in Reason.
type Deliverer interface {
	Deliver(ctx context.Context, m *store.Message) Outcome
}

// Config tunes the queue; zero values take the defaults above.
type Config struct {
	Workers               int
	MaxAttempts           int
	RetryBase             time.Duration
	RetryMax              time.Duration
	JobTimeout            time.Duration
	RescueStuckJobsAfter  time.Duration
	FetchCooldown         time.Duration
	FetchPollInterval     time.Duration
	CompletedJobRetention time.Duration
	Logger                *slog.Logger
	// Purge, when set, runs every PurgeInterval as a River periodic job
	// (once per interval across replicas) to delete expired content.
	Purge func(ctx context.Context) (int64, error)
	// OnOutcome, when set, is told every attempt's outcome (for metrics).
	OnOutcome func(Outcome)
	// Webhook, when set, receives a signed event for every recorded
	// outcome, queued in the outcome's own transaction.
	Webhook *webhook.Sender
	// OnRecordTx, when set, runs in the transaction that records each
	// outcome (to suppress an address a relay refused, for instance).
	OnRecordTx func(ctx context.Context, tx *store.Tx, m *store.Message, o Outcome) error
}

// Queue accepts messages and runs their delivery jobs.
type Queue struct {
	db        *store.DB
	deliverer Deliverer
	cfg       Config
	logger    *slog.Logger
	engine    engine
	completer *completer
}

// engine hides River's client, which is generic over the driver's
// transaction type, behind the calls the queue makes.
type engine interface {
	insertTx(ctx context.Context, tx *store.Tx, args DeliverArgs) (int64, error)
	insertAnyTx(ctx context.Context, tx *store.Tx, args river.JobArgs) error
	completeTx(ctx context.Context, tx *store.Tx, job *river.Job[DeliverArgs]) error
	start(ctx context.Context) error
	stop(ctx context.Context) error
	stopAndCancel(ctx context.Context) error
}

// New builds a queue on db. Call Start to begin working jobs; a queue that
// is never started can still accept messages (another process works them).
func New(db *store.DB, d Deliverer, cfg Config) (*Queue, error) {
	defaultWorkers := DefaultWorkersPostgres
	poll := DefaultFetchPollPostgres
	if db.Pool() == nil {
		defaultWorkers = DefaultWorkersSQLite
		poll = DefaultFetchPollSQLite
	}
	cfg.Workers = cmp.Or(cfg.Workers, defaultWorkers)
	cfg.MaxAttempts = cmp.Or(cfg.MaxAttempts, DefaultMaxAttempts)
	cfg.RetryBase = cmp.Or(cfg.RetryBase, DefaultRetryBase)
	cfg.RetryMax = cmp.Or(cfg.RetryMax, DefaultRetryMax)
	cfg.JobTimeout = cmp.Or(cfg.JobTimeout, DefaultJobTimeout)
	cfg.RescueStuckJobsAfter = cmp.Or(cfg.RescueStuckJobsAfter, DefaultRescueStuckJobsAfter)
	cfg.FetchCooldown = cmp.Or(cfg.FetchCooldown, DefaultFetchCooldown)
	cfg.FetchPollInterval = cmp.Or(cfg.FetchPollInterval, poll)
	cfg.CompletedJobRetention = cmp.Or(cfg.CompletedJobRetention, DefaultCompletedJobRetention)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.JobTimeout >= cfg.RescueStuckJobsAfter {
		return nil, errors.New(
			"queue: job timeout must be shorter than the stuck-job rescue horizon",
		)
	}

	q := &Queue{db: db, deliverer: d, cfg: cfg, logger: cfg.Logger}
	q.completer = newCompleter(q)
	workers := river.NewWorkers()
	if err := river.AddWorkerSafely(workers, &deliverWorker{q: q}); err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	queues := map[string]river.QueueConfig{DeliverQueue: {MaxWorkers: cfg.Workers}}
	if cfg.Webhook != nil {
		if err := river.AddWorkerSafely(workers, &webhookWorker{sender: cfg.Webhook}); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		queues[WebhookQueue] = river.QueueConfig{MaxWorkers: 8}
	}
	var periodic []*river.PeriodicJob
	if cfg.Purge != nil {
		if err := river.AddWorkerSafely(workers, &purgeWorker{q: q}); err != nil {
			return nil, fmt.Errorf("queue: %w", err)
		}
		queues[MaintenanceQueue] = river.QueueConfig{MaxWorkers: 1}
		periodic = append(periodic, river.NewPeriodicJob(river.PeriodicInterval(PurgeInterval),
			func() (river.JobArgs, *river.InsertOpts) { return PurgeArgs{}, nil },
			&river.PeriodicJobOpts{ID: "sealpost_purge", RunOnStart: true}))
	}
	rc := &river.Config{
		Queues:                      queues,
		PeriodicJobs:                periodic,
		Workers:                     workers,
		MaxAttempts:                 cfg.MaxAttempts,
		JobTimeout:                  cfg.JobTimeout,
		RescueStuckJobsAfter:        cfg.RescueStuckJobsAfter,
		FetchCooldown:               cfg.FetchCooldown,
		FetchPollInterval:           cfg.FetchPollInterval,
		CompletedJobRetentionPeriod: cfg.CompletedJobRetention,
		CancelledJobRetentionPeriod: cfg.CompletedJobRetention,
		DiscardedJobRetentionPeriod: cfg.CompletedJobRetention,
		RetryPolicy:                 &retryPolicy{base: cfg.RetryBase, max: cfg.RetryMax},
		Logger:                      riverLogger(cfg.Logger),
	}

	var err error
	if pool := db.Pool(); pool != nil {
		q.engine, err = newEngine(riverpgxv5.New(pool), rc,
			river.JobCompleteTx[*riverpgxv5.Driver, pgx.Tx, DeliverArgs])
	} else {
		q.engine, err = newEngine(riversqlite.New(db.SQL()), rc,
			river.JobCompleteTx[*riversqlite.Driver, *sql.Tx, DeliverArgs])
	}
	if err != nil {
		return nil, fmt.Errorf("queue: %w", err)
	}
	return q, nil
}

// Accept stores m and its delivery job in one transaction. When m carries an
// idempotency key already used by the same API key, nothing is inserted: the
// earlier message is returned with replayed set if the requests match, and
// ErrIdempotencyMismatch if they differ.
//
// Each of also runs in the same transaction after the message is stored (a
// sensitive payload and its portal link, for instance), so they are
// committed with it or not at all.
func (q *Queue) Accept(ctx context.Context, m *store.Message,
	also ...func(ctx context.Context, tx *store.Tx) error,
) (accepted *store.Message, replayed bool, err error) {
	errReplay := errors.New("replay")
	var existing *store.Message
	err = q.db.InTx(ctx, func(tx *store.Tx) error {
		// A message that is suppressed when it arrives is recorded as such
		// and gets no delivery job: it is never sent.
		if m.Status != store.StatusSuppressed {
			jobID, err := q.engine.insertTx(ctx, tx, DeliverArgs{MessageID: m.ID})
			if err != nil {
				return err
			}
			m.JobID = jobID
		}
		err := tx.InsertMessage(ctx, m)
		if errors.Is(err, store.ErrConflict) && m.IdempotencyKey != "" {
			existing, err = tx.GetMessageByIdempotencyKey(ctx, m.APIKeyID, m.IdempotencyKey)
			if err != nil {
				return err
			}
			return errReplay // roll back the job inserted above
		}
		if err != nil {
			return err
		}
		for _, fn := range also {
			if err := fn(ctx, tx); err != nil {
				return err
			}
		}
		return nil
	})
	switch {
	case errors.Is(err, errReplay):
		if !bytes.Equal(existing.RequestHash, m.RequestHash) {
			return nil, false, ErrIdempotencyMismatch
		}
		return existing, true, nil
	case err != nil:
		return nil, false, fmt.Errorf("accept message: %w", err)
	}
	return m, false, nil
}

// Start begins working delivery jobs.
func (q *Queue) Start(ctx context.Context) error {
	q.completer.start(completionWriters)
	if err := q.engine.start(ctx); err != nil {
		q.completer.close()
		return err
	}
	return nil
}

// Stop stops fetching new jobs and waits for running ones until ctx is done;
// then it cancels them, so each records its attempt as deferred and River
// marks it retryable. Nothing is left running.
func (q *Queue) Stop(ctx context.Context) error {
	// Workers hand their outcomes to the completer until the last one has
	// returned, so it stops after the River client.
	defer q.completer.close()
	err := q.engine.stop(ctx)
	if err == nil {
		return nil
	}
	if !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, context.Canceled) {
		return err
	}
	q.logger.Warn("soft stop timed out; cancelling running deliveries")
	hardCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	return q.engine.stopAndCancel(hardCtx)
}

type riverEngine[TTx any] struct {
	client   *river.Client[TTx]
	complete func(ctx context.Context, tx TTx, job *river.Job[DeliverArgs]) (*river.Job[DeliverArgs], error)
}

func newEngine[TTx any](
	driver riverdriver.Driver[TTx],
	cfg *river.Config,
	complete func(ctx context.Context, tx TTx, job *river.Job[DeliverArgs]) (*river.Job[DeliverArgs], error),
) (*riverEngine[TTx], error) {
	client, err := river.NewClient[TTx](driver, cfg)
	if err != nil {
		return nil, err
	}
	return &riverEngine[TTx]{client: client, complete: complete}, nil
}

func (e *riverEngine[TTx]) insertTx(
	ctx context.Context,
	tx *store.Tx,
	args DeliverArgs,
) (int64, error) {
	res, err := e.client.InsertTx(ctx, tx.Raw().(TTx), args, nil)
	if err != nil {
		return 0, fmt.Errorf("insert job: %w", err)
	}
	return res.Job.ID, nil
}

func (e *riverEngine[TTx]) insertAnyTx(
	ctx context.Context,
	tx *store.Tx,
	args river.JobArgs,
) error {
	if _, err := e.client.InsertTx(ctx, tx.Raw().(TTx), args, nil); err != nil {
		return fmt.Errorf("insert job: %w", err)
	}
	return nil
}

func (e *riverEngine[TTx]) completeTx(
	ctx context.Context,
	tx *store.Tx,
	job *river.Job[DeliverArgs],
) error {
	if _, err := e.complete(ctx, tx.Raw().(TTx), job); err != nil {
		if errors.Is(err, rivertype.ErrNotFound) {
			// The job is no longer running (River rescued it, or another
			// attempt finished it); the attempt is still recorded.
			return errJobNotRunning
		}
		return fmt.Errorf("complete job: %w", err)
	}
	return nil
}

func (e *riverEngine[TTx]) start(ctx context.Context) error { return e.client.Start(ctx) }
func (e *riverEngine[TTx]) stop(ctx context.Context) error  { return e.client.Stop(ctx) }
func (e *riverEngine[TTx]) stopAndCancel(ctx context.Context) error {
	return e.client.StopAndCancel(ctx)
}

// retryPolicy backs off exponentially with ±10% jitter.
type retryPolicy struct{ base, max time.Duration }

func (p *retryPolicy) NextRetry(job *rivertype.JobRow) time.Time {
	d := p.base
	for i := 1; i < job.Attempt && d < p.max; i++ {
		d *= 2
	}
	d = min(d, p.max)
	jitter := time.Duration(rand.Int64N(int64(d)/5+1)) - d/10
	return time.Now().Add(d + jitter)
}
