-- name: InsertConsentEvent
INSERT INTO sealpost_consent_event (id, address, purpose, action, source, wording_version,
    wording_hash, remote_addr, user_agent, actor, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11);

-- name: ListConsentEvents
SELECT id, address, purpose, action, source, wording_version, wording_hash, remote_addr,
    user_agent, actor, created_at
FROM sealpost_consent_event
WHERE address = $1
ORDER BY created_at, id;

-- name: LatestConsentEvent
SELECT id, address, purpose, action, source, wording_version, wording_hash, remote_addr,
    user_agent, actor, created_at
FROM sealpost_consent_event
WHERE address = $1 AND purpose = $2 AND action IN ('grant', 'confirm', 'withdraw')
ORDER BY created_at DESC, id DESC
LIMIT 1;

-- name: LatestConsentRequest
SELECT id, address, purpose, action, source, wording_version, wording_hash, remote_addr,
    user_agent, actor, created_at
FROM sealpost_consent_event
WHERE address = $1 AND purpose = $2 AND action = 'request'
ORDER BY created_at DESC, id DESC
LIMIT 1;

-- name: GetConsentEvent
SELECT id, address, purpose, action, source, wording_version, wording_hash, remote_addr,
    user_agent, actor, created_at
FROM sealpost_consent_event
WHERE id = $1;

-- name: InsertSuppression
INSERT INTO sealpost_suppression (id, address, scope, reason, source, message_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7);

-- name: ActiveSuppressions
SELECT id, address, scope, reason, source, message_id, created_at, removed_at, removed_by,
    removal_reason
FROM sealpost_suppression
WHERE address = $1 AND removed_at IS NULL
ORDER BY created_at, id;

-- name: ListSuppressions
SELECT id, address, scope, reason, source, message_id, created_at, removed_at, removed_by,
    removal_reason
FROM sealpost_suppression
WHERE ($1 = '' OR address = $1)
ORDER BY created_at, id
LIMIT $2;

-- name: RemoveSuppression
UPDATE sealpost_suppression
SET removed_at = $2, removed_by = $3, removal_reason = $4
WHERE id = $1 AND removed_at IS NULL;

-- name: ExportConsentEvents
SELECT id, address, purpose, action, source, wording_version, wording_hash, remote_addr,
    user_agent, actor, created_at
FROM sealpost_consent_event
WHERE ($1 = '' OR address = $1) AND created_at >= $2 AND created_at < $3
    AND (created_at > $4 OR (created_at = $4 AND id > $5))
ORDER BY created_at, id
LIMIT 500;

-- name: ExportSuppressions
SELECT id, address, scope, reason, source, message_id, created_at, removed_at, removed_by,
    removal_reason
FROM sealpost_suppression
WHERE ($1 = '' OR address = $1) AND created_at >= $2 AND created_at < $3
    AND (created_at > $4 OR (created_at = $4 AND id > $5))
ORDER BY created_at, id
LIMIT 500;
