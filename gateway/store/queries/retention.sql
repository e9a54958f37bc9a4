-- name: PurgeMessages
DELETE FROM sealpost_message
WHERE created_at < $1 AND status IN ('sent', 'failed', 'suppressed', 'rejected');

-- name: PurgeConsentEvents
DELETE FROM sealpost_consent_event WHERE created_at < $1;

-- name: PurgeRemovedSuppressions
DELETE FROM sealpost_suppression WHERE removed_at IS NOT NULL AND removed_at < $1;

-- name: PurgePortalEvents
DELETE FROM sealpost_portal_event WHERE created_at < $1;
