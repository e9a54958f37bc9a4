-- Consent history is append-only: every grant, confirmation and withdrawal
-- is a row with its evidence; the current state is derived from the rows.
CREATE TABLE sealpost_consent_event (
    id              text PRIMARY KEY,
    address         text NOT NULL,
    purpose         text NOT NULL,
    action          text NOT NULL CHECK (action IN ('request', 'grant', 'confirm', 'withdraw')),
    source          text NOT NULL CHECK (source IN ('api', 'form', 'import', 'console', 'unsubscribe')),
    wording_version text NOT NULL DEFAULT '',
    wording_hash    text NOT NULL DEFAULT '',
    remote_addr     text NOT NULL DEFAULT '',
    user_agent      text NOT NULL DEFAULT '',
    actor           text NOT NULL,
    created_at      TIMESTAMP NOT NULL
);

CREATE INDEX sealpost_consent_event_address_idx ON sealpost_consent_event (address, purpose, created_at);

-- Suppressions: an address that must not be mailed, with why and since
-- when. Removal keeps the row (who, when, why) so the history stays.
CREATE TABLE sealpost_suppression (
    id             text PRIMARY KEY,
    address        text NOT NULL,
    scope          text NOT NULL CHECK (scope IN ('all', 'marketing')),
    reason         text NOT NULL CHECK (reason IN ('unsubscribe', 'hard_bounce', 'complaint', 'manual')),
    source         text NOT NULL,
    message_id     text,
    created_at     TIMESTAMP NOT NULL,
    removed_at     TIMESTAMP,
    removed_by     text,
    removal_reason text
);

CREATE INDEX sealpost_suppression_active_idx ON sealpost_suppression (address) WHERE removed_at IS NULL;
