package queue

import (
	"context"
	"time"

	"github.com/riverqueue/river"
)

// PurgeInterval is how often expired sensitive content and records past
// their retention window are deleted.
const PurgeInterval = time.Minute

// PurgeArgs are the arguments of the periodic purge job (there are none).
type PurgeArgs struct{}

// Kind names the job kind in River's table.
func (PurgeArgs) Kind() string { return "sealpost_purge" }

// InsertOpts makes the purge unique per interval, so replicas that each
// schedule it still run it once per period.
func (PurgeArgs) InsertOpts() river.InsertOpts {
	return river.InsertOpts{Queue: MaintenanceQueue, MaxAttempts: 3,
		UniqueOpts: river.UniqueOpts{ByPeriod: PurgeInterval}}
}

// MaintenanceQueue runs periodic housekeeping apart from deliveries.
const MaintenanceQueue = "maintenance"

type purgeWorker struct {
	river.WorkerDefaults[PurgeArgs]

	q *Queue
}

func (w *purgeWorker) Work(ctx context.Context, _ *river.Job[PurgeArgs]) error {
	n, err := w.q.cfg.Purge(ctx)
	if err != nil {
		return err
	}
	if n > 0 {
		w.q.logger.Info("expired records deleted", "count", n)
	}
	return nil
}
