-- name: InsertTemplateVersion
-- The next version is computed inside the statement; two concurrent saves of
-- one name collide on the primary key and the loser retries.
INSERT INTO sealpost_template (name, version, body, created_by, created_at)
SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4
FROM sealpost_template
WHERE name = $1
RETURNING version;

-- name: GetLatestTemplate
SELECT name, version, body, created_by, created_at
FROM sealpost_template
WHERE name = $1
ORDER BY version DESC
LIMIT 1;

-- name: GetTemplateVersion
SELECT name, version, body, created_by, created_at
FROM sealpost_template
WHERE name = $1 AND version = $2;

-- name: ListTemplates
SELECT name, MAX(version), MAX(created_at)
FROM sealpost_template
GROUP BY name
ORDER BY name;
