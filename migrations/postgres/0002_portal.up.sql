-- Sensitive payloads: only ciphertext and a wrapped data key, deleted (not
-- hidden) when the portal link expires.
CREATE TABLE sealpost_payload (
    message_id  text PRIMARY KEY,
    key_id      text NOT NULL,
    wrapped_key bytea NOT NULL,
    nonce       bytea NOT NULL,
    ciphertext  bytea NOT NULL,
    expires_at  timestamptz NOT NULL
);

CREATE INDEX sealpost_payload_expires_at_idx ON sealpost_payload (expires_at);

-- Portal links: the token itself is never stored, only its SHA-256.
CREATE TABLE sealpost_portal_link (
    token_hash       bytea PRIMARY KEY,
    message_id       text NOT NULL UNIQUE,
    knowledge_kind   text,
    knowledge_hash   text,
    code_hash        bytea,
    code_expires_at  timestamptz,
    code_sent_at     timestamptz,
    failed_attempts  integer NOT NULL DEFAULT 0,
    locked_at        timestamptz,
    expires_at       timestamptz NOT NULL,
    created_at       timestamptz NOT NULL
);

-- Verified portal sessions, by the SHA-256 of the session cookie.
CREATE TABLE sealpost_portal_session (
    session_hash bytea PRIMARY KEY,
    message_id   text NOT NULL,
    last_seen_at timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    viewed_at    timestamptz
);

-- Every portal view, code sent, failed verification and lock, in one place
-- for the audit log to take over.
CREATE TABLE sealpost_portal_event (
    id          text PRIMARY KEY,
    message_id  text NOT NULL,
    kind        text NOT NULL,
    remote_addr text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL
);

CREATE INDEX sealpost_portal_event_message_idx ON sealpost_portal_event (message_id, created_at);
