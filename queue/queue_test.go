package queue_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sealpost/sealpost/gateway/store"
	"github.com/sealpost/sealpost/gateway/store/storetest"
	"github.com/sealpost/sealpost/queue"
)

// scriptedDeliverer answers each attempt with the next outcome of its script
// (the last one repeats) and counts attempts per message.
type scriptedDeliverer struct {
	mu       sync.Mutex
	script   []queue.Outcome
	attempts map[string]int
	before   func(ctx context.Context, attempt int)
}

func (d *scriptedDeliverer) Deliver(ctx context.Context, m *store.Message) queue.Outcome {
	d.mu.Lock()
	if d.attempts == nil {
		d.attempts = map[string]int{}
	}
	d.attempts[m.ID]++
	n := d.attempts[m.ID]
	d.mu.Unlock()
	if d.before != nil {
		d.before(ctx, n)
	}
	return d.script[min(n, len(d.script))-1]
}

func (d *scriptedDeliverer) count(id string) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.attempts[id]
}

var sent = queue.Outcome{Status: store.StatusSent, ReplyCode: 250, EnhancedCode: "2.0.0"}

type bundle struct {
	db *store.DB
	q  *queue.Queue
	d  *scriptedDeliverer
}

func setup(t *testing.T, db *store.DB, d *scriptedDeliverer, cfg queue.Config) *bundle {
	t.Helper()
	cfg.RetryBase = 10 * time.Millisecond
	cfg.RetryMax = 20 * time.Millisecond
	cfg.FetchPollInterval = 20 * time.Millisecond
	q, err := queue.New(db, d, cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &bundle{db: db, q: q, d: d}
}

func (b *bundle) start(t *testing.T) {
	t.Helper()
	if err := b.q.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = b.q.Stop(ctx)
	})
}

var nextID atomic.Int64

func newMessage(idem string) *store.Message {
	id := "msg-" + time.Now().Format("150405.000000") + "-" + string(rune('a'+nextID.Add(1)%26))
	return &store.Message{
		ID: id, APIKeyID: "key1", IdempotencyKey: idem, RequestHash: []byte("h1"),
		TemplateName: "t", TemplateVersion: 1, Category: "transactional",
		Recipient: "pat@example.test", Data: "{}", Headers: "{}",
		RFCMessageID: id + "@example.test", Status: store.StatusQueued, CreatedAt: time.Now(),
	}
}

func waitStatus(t *testing.T, db *store.DB, id string, want store.Status) *store.Message {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		m, err := db.GetMessage(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if m.Status == want {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("message status = %s, want %s", m.Status, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func waitJobState(t *testing.T, db *store.DB, jobID int64, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		state, err := db.JobState(context.Background(), jobID)
		if err != nil {
			t.Fatal(err)
		}
		if state == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("job state = %s, want %s", state, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestAcceptInsertsMessageAndJobTogether(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, &scriptedDeliverer{script: []queue.Outcome{sent}}, queue.Config{})
		ctx := context.Background()
		m := newMessage("")
		got, replayed, err := b.q.Accept(ctx, m)
		if err != nil || replayed || got.JobID == 0 {
			t.Fatalf("Accept = %+v, %v, %v", got, replayed, err)
		}
		stored, err := db.GetMessage(ctx, m.ID)
		if err != nil || stored.JobID != got.JobID {
			t.Fatalf("stored = %+v, %v", stored, err)
		}
		state, err := db.JobState(ctx, got.JobID)
		if err != nil || state != "available" {
			t.Fatalf("job state = %q, %v", state, err)
		}
	})
}

func TestAcceptIdempotency(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		b := setup(t, db, &scriptedDeliverer{script: []queue.Outcome{sent}}, queue.Config{})
		ctx := context.Background()
		first := newMessage("order-42")
		if _, _, err := b.q.Accept(ctx, first); err != nil {
			t.Fatal(err)
		}

		same := newMessage("order-42")
		got, replayed, err := b.q.Accept(ctx, same)
		if err != nil || !replayed || got.ID != first.ID {
			t.Fatalf("replay = %+v, %v, %v", got, replayed, err)
		}
		if _, err := db.GetMessage(ctx, same.ID); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("replay stored a second message: %v", err)
		}

		different := newMessage("order-42")
		different.RequestHash = []byte("h2")
		if _, _, err := b.q.Accept(ctx, different); !errors.Is(err, queue.ErrIdempotencyMismatch) {
			t.Fatalf("different body: err = %v, want ErrIdempotencyMismatch", err)
		}
	})
}

func TestDeliverOutcomes(t *testing.T) {
	t.Parallel()
	deferred := queue.Outcome{Status: store.StatusDeferred, ReplyCode: 451, EnhancedCode: "4.3.0",
		Reason: "smtp data: 451 4.3.0"}
	failed := queue.Outcome{Status: store.StatusFailed, ReplyCode: 550, EnhancedCode: "5.1.1",
		Reason: "smtp rcpt: 550 5.1.1"}
	tests := []struct {
		name         string
		script       []queue.Outcome
		maxAttempts  int
		wantStatus   store.Status
		wantAttempts int
		wantCode     int
	}{
		{"sent first time", []queue.Outcome{sent}, 0, store.StatusSent, 1, 250},
		{
			"deferred then sent",
			[]queue.Outcome{deferred, deferred, sent},
			0,
			store.StatusSent,
			3,
			250,
		},
		{
			"permanent failure is not retried",
			[]queue.Outcome{failed},
			0,
			store.StatusFailed,
			1,
			550,
		},
		{
			"deferred until attempts run out",
			[]queue.Outcome{deferred},
			3,
			store.StatusFailed,
			3,
			451,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			storetest.Each(t, func(t *testing.T, db *store.DB) {
				d := &scriptedDeliverer{script: tt.script}
				b := setup(t, db, d, queue.Config{MaxAttempts: tt.maxAttempts})
				b.start(t)
				m := newMessage("")
				if _, _, err := b.q.Accept(context.Background(), m); err != nil {
					t.Fatal(err)
				}
				got := waitStatus(t, db, m.ID, tt.wantStatus)
				if got.Attempts != tt.wantAttempts || got.LastReplyCode != tt.wantCode {
					t.Fatalf("attempts = %d, code = %d; want %d, %d",
						got.Attempts, got.LastReplyCode, tt.wantAttempts, tt.wantCode)
				}
				waitJobState(t, db, got.JobID, "completed")
				if n := d.count(m.ID); n != tt.wantAttempts {
					t.Fatalf("deliverer called %d times, want %d", n, tt.wantAttempts)
				}
			})
		})
	}
}

// A worker that dies after the relay accepted the message but before the
// outcome was committed must not leave a sent mark behind, and the job must
// be tried again rather than lost.
func TestCrashBetweenSendAndCompletion(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := &scriptedDeliverer{script: []queue.Outcome{sent}}
		d.before = func(_ context.Context, attempt int) {
			if attempt == 1 {
				panic("worker crashed after the relay accepted the message")
			}
		}
		b := setup(t, db, d, queue.Config{})
		b.start(t)
		m := newMessage("")
		if _, _, err := b.q.Accept(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		got := waitStatus(t, db, m.ID, store.StatusSent)
		if got.Attempts != 1 || d.count(m.ID) != 2 {
			t.Fatalf("recorded attempts = %d, deliveries = %d; want 1 recorded of 2 tried",
				got.Attempts, d.count(m.ID))
		}
		waitJobState(t, db, got.JobID, "completed")
	})
}

// Case BL-16: a shutdown while deliveries are in flight leaves no job running;
// the interrupted attempt is recorded as deferred and retried later.
func TestCaseBL16GracefulShutdownLeavesNothingRunning(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		started := make(chan struct{}, 1)
		d := &scriptedDeliverer{}
		d.script = []queue.Outcome{
			{Status: store.StatusDeferred, Reason: "smtp data: context canceled"},
		}
		d.before = func(ctx context.Context, _ int) {
			started <- struct{}{}
			<-ctx.Done() // a slow relay; honours cancellation
		}
		b := setup(t, db, d, queue.Config{})
		if err := b.q.Start(context.Background()); err != nil {
			t.Fatal(err)
		}
		m := newMessage("")
		if _, _, err := b.q.Accept(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		<-started

		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if err := b.q.Stop(ctx); err != nil {
			t.Fatalf("Stop: %v", err)
		}
		got, err := db.GetMessage(context.Background(), m.ID)
		if err != nil {
			t.Fatal(err)
		}
		state, err := db.JobState(context.Background(), got.JobID)
		if err != nil {
			t.Fatal(err)
		}
		if state == "running" || got.Status != store.StatusDeferred {
			t.Fatalf(
				"after stop: job %s, message %s; want not running, deferred",
				state,
				got.Status,
			)
		}
	})
}

func TestJobRowsHoldNoContent(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		reason := "smtp rcpt: 450 4.2.0"
		d := &scriptedDeliverer{
			script: []queue.Outcome{{Status: store.StatusDeferred, Reason: reason}, sent},
		}
		b := setup(t, db, d, queue.Config{})
		b.start(t)
		m := newMessage("")
		m.Recipient = "canary-recipient@example.test"
		m.Data = `{"first_name":"CANARY-NAME"}`
		if _, _, err := b.q.Accept(context.Background(), m); err != nil {
			t.Fatal(err)
		}
		waitStatus(t, db, m.ID, store.StatusSent)
		dump := storetest.DumpJobs(t, db)
		for _, canary := range []string{"canary-recipient", "CANARY-NAME"} {
			if strings.Contains(dump, canary) {
				t.Fatalf("job rows contain %q", canary)
			}
		}
		if !strings.Contains(dump, reason) || !strings.Contains(dump, m.ID) {
			t.Fatalf("job rows lack the message id or the deferral reason: %s", dump)
		}
	})
}

// Many attempts finishing together share commits; each message still gets
// exactly its own outcome and its job completes.
func TestManyOutcomesShareCommits(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		d := &scriptedDeliverer{script: []queue.Outcome{sent}}
		b := setup(t, db, d, queue.Config{Workers: 32})
		b.start(t)
		var ids []string
		for range 150 {
			m := newMessage("")
			m.ID = fmt.Sprintf("%s-%d", m.ID, nextID.Add(1))
			if _, _, err := b.q.Accept(context.Background(), m); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, m.ID)
		}
		for _, id := range ids {
			got := waitStatus(t, db, id, store.StatusSent)
			if got.Attempts != 1 {
				t.Fatalf("message %s: %d attempts recorded", id, got.Attempts)
			}
			waitJobState(t, db, got.JobID, "completed")
			if n := d.count(id); n != 1 {
				t.Fatalf("message %s delivered %d times", id, n)
			}
		}
	})
}

// The purge runs as a River periodic job as soon as a queue starts; its
// uniqueness per period keeps replicas from running it more than once.
func TestPurgeRunsPeriodically(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		var runs atomic.Int64
		d := &scriptedDeliverer{script: []queue.Outcome{sent}}
		cfg := queue.Config{
			Purge: func(context.Context) (int64, error) { runs.Add(1); return 0, nil },
		}
		first := setup(t, db, d, cfg)
		second := setup(t, db, d, cfg) // a second replica on the same database
		first.start(t)
		second.start(t)
		deadline := time.Now().Add(15 * time.Second)
		for runs.Load() == 0 {
			if time.Now().After(deadline) {
				t.Fatal("purge never ran")
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(500 * time.Millisecond)
		if n := runs.Load(); n != 1 {
			t.Fatalf("purge ran %d times in its first period, want 1", n)
		}
	})
}
