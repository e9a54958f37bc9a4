-- name: InsertAPIKey
INSERT INTO sealpost_api_key (id, name, roles, secret_hash, created_at)
VALUES ($1, $2, $3, $4, $5);

-- name: GetAPIKey
SELECT id, name, roles, secret_hash, created_at, revoked_at
FROM sealpost_api_key
WHERE id = $1;

-- name: ListAPIKeys
SELECT id, name, roles, secret_hash, created_at, revoked_at
FROM sealpost_api_key
ORDER BY created_at, id;

-- name: RevokeAPIKey
UPDATE sealpost_api_key
SET revoked_at = $2
WHERE id = $1 AND revoked_at IS NULL;
