-- name: InsertPayload
INSERT INTO sealpost_payload (message_id, key_id, wrapped_key, nonce, ciphertext, expires_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: GetPayload
SELECT message_id, key_id, wrapped_key, nonce, ciphertext, expires_at
FROM sealpost_payload
WHERE message_id = $1;

-- name: ListPayloadKeys
SELECT message_id, key_id, wrapped_key, nonce, ciphertext
FROM sealpost_payload
WHERE key_id <> $1
ORDER BY message_id
LIMIT $2;

-- name: RewrapPayload
UPDATE sealpost_payload SET key_id = $2, wrapped_key = $3
WHERE message_id = $1 AND key_id = $4;

-- name: PurgeExpiredPayloads
DELETE FROM sealpost_payload WHERE expires_at <= $1;

-- name: InsertPortalLink
INSERT INTO sealpost_portal_link (token_hash, message_id, knowledge_kind, knowledge_hash,
    expires_at, created_at)
VALUES ($1, $2, $3, $4, $5, $6);

-- name: GetPortalLink
SELECT token_hash, message_id, knowledge_kind, knowledge_hash, code_hash, code_expires_at,
    code_sent_at, failed_attempts, locked_at, expires_at, created_at
FROM sealpost_portal_link
WHERE token_hash = $1;

-- name: SetPortalCode
UPDATE sealpost_portal_link
SET code_hash = $2, code_expires_at = $3, code_sent_at = $4
WHERE token_hash = $1;

-- name: ClearPortalCode
-- Uses up the code: only one of several concurrent verifications of the
-- same code can clear it.
UPDATE sealpost_portal_link SET code_hash = NULL, code_expires_at = NULL
WHERE token_hash = $1 AND code_hash = $2;

-- name: ReservePortalAttempt
-- Counts an attempt before it is checked, atomically with the limit, so
-- concurrent guesses cannot exceed it.
UPDATE sealpost_portal_link SET failed_attempts = failed_attempts + 1
WHERE token_hash = $1 AND failed_attempts < $2 AND locked_at IS NULL
RETURNING failed_attempts;

-- name: ReleasePortalAttempt
UPDATE sealpost_portal_link SET failed_attempts = failed_attempts - 1
WHERE token_hash = $1 AND failed_attempts > 0;

-- name: LockPortalLink
UPDATE sealpost_portal_link SET locked_at = $2 WHERE token_hash = $1 AND locked_at IS NULL;

-- name: PurgeExpiredPortalLinks
DELETE FROM sealpost_portal_link WHERE expires_at <= $1;

-- name: InsertPortalSession
INSERT INTO sealpost_portal_session (session_hash, message_id, last_seen_at, expires_at)
VALUES ($1, $2, $3, $4);

-- name: TouchPortalSession
-- Returns the session's message while it is neither idle too long nor past
-- its absolute end, and marks it seen.
UPDATE sealpost_portal_session SET last_seen_at = $2
WHERE session_hash = $1 AND last_seen_at > $3 AND expires_at > $2
RETURNING message_id, viewed_at;

-- name: MarkPortalSessionViewed
-- Claims the session's one view; a second view finds viewed_at set.
UPDATE sealpost_portal_session SET viewed_at = $2
WHERE session_hash = $1 AND viewed_at IS NULL;

-- name: DeletePortalSessions
DELETE FROM sealpost_portal_session WHERE expires_at <= $1 OR last_seen_at <= $2;

-- name: InsertPortalEvent
INSERT INTO sealpost_portal_event (id, message_id, kind, remote_addr, created_at)
VALUES ($1, $2, $3, $4, $5);

-- name: ListPortalEvents
SELECT id, message_id, kind, remote_addr, created_at
FROM sealpost_portal_event
WHERE message_id = $1
ORDER BY created_at, id;
