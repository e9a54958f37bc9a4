-- Each running gateway announces the periodic jobs it schedules, so a
-- replica started with a different set is noticed (River runs periodic
-- jobs on the elected leader only, whichever replica that is).
CREATE TABLE sealpost_replica (
    id       text PRIMARY KEY,
    periodic text NOT NULL,
    seen_at  timestamptz NOT NULL
);
