-- Dead letters an operator can act on: a short id to name one by, the topic it came from, and
-- its state. open: the projection is stopped before it; retry: an operator asked the worker to
-- try it again; skipped: passed over (by an operator, or by a worker run with --skip-poison);
-- resolved: applied after all (a retry, or a worker restarted with a fix).
ALTER TABLE projection_dead_letters
    ADD COLUMN id bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    ADD COLUMN topic text,
    ADD COLUMN state text NOT NULL DEFAULT 'open'
        CHECK (state IN ('open', 'retry', 'skipped', 'resolved'));
UPDATE projection_dead_letters SET state = 'skipped' WHERE skipped;

-- Who did what to which dead letter, when and why (the audit of every skip and retry).
CREATE TABLE projection_dead_letter_actions (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    dead_letter_id bigint NOT NULL REFERENCES projection_dead_letters (id),
    projection text NOT NULL,
    event_id uuid NOT NULL,
    action text NOT NULL CHECK (action IN ('skip', 'retry')),
    operator text NOT NULL,
    reason text NOT NULL,
    acted_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX projection_dead_letter_actions_letter ON projection_dead_letter_actions (dead_letter_id);
