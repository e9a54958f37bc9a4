-- The audit log: an append-only hash chain. Each event's hash covers its own
-- fields and the previous event's hash, so editing, deleting, inserting or
-- reordering a row breaks the chain (see package gateway/audit for the exact
-- encoding). seq is assigned by the appender, never by a sequence, so the
-- chain has no gaps: a missing seq is a deleted event.
--
-- details is text, not jsonb: the hash covers its bytes exactly as written,
-- and jsonb would reorder and respace them.
CREATE TABLE sealpost_audit_event (
    seq         bigint PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    at          timestamptz NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    details     text NOT NULL DEFAULT '{}',
    prev_hash   bytea NOT NULL,
    hash        bytea NOT NULL
);

CREATE INDEX sealpost_audit_event_at_idx ON sealpost_audit_event (at);

-- The chain head: one row holding the newest seq and hash. Appenders lock it
-- (by updating it) so that two transactions never extend the same event.
-- seq 0 with an all-zero hash is the empty chain.
CREATE TABLE sealpost_audit_head (
    id         integer PRIMARY KEY CHECK (id = 1),
    seq        bigint NOT NULL,
    hash       bytea NOT NULL,
    updated_at timestamptz
);

INSERT INTO sealpost_audit_head (id, seq, hash)
VALUES (1, 0, decode(repeat('00', 32), 'hex'));
