-- name: UpsertReplica
INSERT INTO sealpost_replica (id, periodic, seen_at) VALUES ($1, $2, $3)
ON CONFLICT (id) DO UPDATE SET periodic = excluded.periodic, seen_at = excluded.seen_at;

-- name: OtherReplicaPeriodic
SELECT DISTINCT periodic FROM sealpost_replica WHERE id <> $1 AND seen_at > $2;

-- name: DeleteReplica
DELETE FROM sealpost_replica WHERE id = $1 OR seen_at < $2;
