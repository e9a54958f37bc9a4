-- API keys: only a SHA-256 of the secret part is kept; the key id is public.
CREATE TABLE sealpost_api_key (
    id          text PRIMARY KEY,
    name        text NOT NULL,
    roles       text NOT NULL,
    secret_hash bytea NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);

-- Templates are versioned: a save inserts a new version, old ones stay so a
-- queued message always renders with the version it was accepted against.
CREATE TABLE sealpost_template (
    name       text NOT NULL,
    version    integer NOT NULL,
    body       text NOT NULL,
    created_by text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (name, version)
);

-- One row per message (one notification to one recipient). Content is never
-- copied into River's job rows: the job holds the message id only.
CREATE TABLE sealpost_message (
    id                 text PRIMARY KEY,
    api_key_id         text NOT NULL,
    idempotency_key    text,
    request_hash       bytea NOT NULL,
    template_name      text NOT NULL,
    template_version   integer NOT NULL,
    category           text NOT NULL,
    recipient          text NOT NULL,
    recipient_name     text NOT NULL DEFAULT '',
    data               text NOT NULL,
    headers            text NOT NULL DEFAULT '{}',
    rfc_message_id     text NOT NULL,
    status             text NOT NULL,
    attempts           integer NOT NULL DEFAULT 0,
    job_id             bigint,
    last_reply_code    integer,
    last_enhanced_code text,
    last_error         text,
    created_at         timestamptz NOT NULL,
    updated_at         timestamptz NOT NULL,
    sent_at            timestamptz,
    CONSTRAINT sealpost_message_status_check CHECK (status IN
        ('queued', 'sending', 'sent', 'deferred', 'failed', 'suppressed', 'rejected'))
);

CREATE UNIQUE INDEX sealpost_message_idempotency_idx
    ON sealpost_message (api_key_id, idempotency_key)
    WHERE idempotency_key IS NOT NULL;

CREATE INDEX sealpost_message_created_at_idx ON sealpost_message (created_at);
