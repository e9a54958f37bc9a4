-- name: AdvanceAuditHead
-- Claims the next seq and returns it with the previous event's hash. The
-- update takes the head row's lock, which the transaction holds until it
-- ends, so concurrent appenders queue here instead of sharing a prev_hash.
UPDATE sealpost_audit_head SET seq = seq + 1
WHERE id = 1
RETURNING seq, hash;

-- name: SetAuditHeadHash
UPDATE sealpost_audit_head SET hash = $2, updated_at = $3
WHERE id = 1 AND seq = $1;

-- name: GetAuditHead
SELECT seq, hash FROM sealpost_audit_head WHERE id = 1;

-- name: InsertAuditEvent
INSERT INTO sealpost_audit_event (seq, id, at, actor, action, object_type, object_id,
    remote_addr, details, prev_hash, hash)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: ListAuditEvents
-- One page of the chain in seq order, after a given seq.
SELECT seq, id, at, actor, action, object_type, object_id, remote_addr, details,
    prev_hash, hash
FROM sealpost_audit_event
WHERE seq > $1
ORDER BY seq
LIMIT $2;

-- name: ListAuditEventsBetween
-- One page of the events in [since, until), in seq order, after a given seq.
SELECT seq, id, at, actor, action, object_type, object_id, remote_addr, details,
    prev_hash, hash
FROM sealpost_audit_event
WHERE seq > $1 AND at >= $2 AND at < $3
ORDER BY seq
LIMIT $4;
