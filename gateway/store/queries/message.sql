-- name: InsertMessage
INSERT INTO sealpost_message (
    id, api_key_id, idempotency_key, request_hash, template_name,
    template_version, category, recipient, recipient_name, data, headers,
    rfc_message_id, status, attempts, job_id, created_at, updated_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, 0, $15, $14, $14)
ON CONFLICT DO NOTHING;

-- name: GetJobState
SELECT state FROM river_job WHERE id = $1;

-- name: GetMessage
SELECT id, api_key_id, idempotency_key, request_hash, template_name,
    template_version, category, recipient, recipient_name, data, headers,
    rfc_message_id, status, attempts, job_id, last_reply_code,
    last_enhanced_code, last_error, created_at, updated_at, sent_at
FROM sealpost_message
WHERE id = $1;

-- name: GetMessageByIdempotencyKey
SELECT id, api_key_id, idempotency_key, request_hash, template_name,
    template_version, category, recipient, recipient_name, data, headers,
    rfc_message_id, status, attempts, job_id, last_reply_code,
    last_enhanced_code, last_error, created_at, updated_at, sent_at
FROM sealpost_message
WHERE api_key_id = $1 AND idempotency_key = $2;

-- name: RecordAttempt
-- Written in the transaction that completes or retries the message's job.
UPDATE sealpost_message
SET status = $2,
    attempts = attempts + 1,
    last_reply_code = $3,
    last_enhanced_code = $4,
    last_error = $5,
    updated_at = $6,
    sent_at = $7
WHERE id = $1;

-- name: ClearMessageData
UPDATE sealpost_message SET data = '{}' WHERE id = $1;
