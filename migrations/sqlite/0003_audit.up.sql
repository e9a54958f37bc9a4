-- The audit log: an append-only hash chain. Each event's hash covers its own
-- fields and the previous event's hash, so editing, deleting, inserting or
-- reordering a row breaks the chain (see package gateway/audit for the exact
-- encoding). seq is assigned by the appender, so the chain has no gaps: a
-- missing seq is a deleted event.
CREATE TABLE sealpost_audit_event (
    seq         INTEGER PRIMARY KEY,
    id          text NOT NULL UNIQUE,
    at          TIMESTAMP NOT NULL,
    actor       text NOT NULL,
    action      text NOT NULL,
    object_type text NOT NULL DEFAULT '',
    object_id   text NOT NULL DEFAULT '',
    remote_addr text NOT NULL DEFAULT '',
    details     text NOT NULL DEFAULT '{}',
    prev_hash   BLOB NOT NULL,
    hash        BLOB NOT NULL
);

CREATE INDEX sealpost_audit_event_at_idx ON sealpost_audit_event (at);

-- The chain head: one row holding the newest seq and hash. seq 0 with an
-- all-zero hash is the empty chain. SQLite has one writer, so appends are
-- serialized already; the row keeps both databases alike.
CREATE TABLE sealpost_audit_head (
    id         integer PRIMARY KEY CHECK (id = 1),
    seq        INTEGER NOT NULL,
    hash       BLOB NOT NULL,
    updated_at TIMESTAMP
);

INSERT INTO sealpost_audit_head (id, seq, hash) VALUES (1, 0, zeroblob(32));
