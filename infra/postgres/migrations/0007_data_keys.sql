-- Data keys for crypto-shredding (docs/privacy.md): one per data subject, in a schema of their
-- own, apart from the event store and the read models. `wrapped` is the key encrypted by the KEK
-- of `kek_version`. Erasing a subject clears its key and keeps the row, so no key is ever made
-- for that subject again. NOT rebuildable: these rows are the only copy of the keys.
CREATE SCHEMA IF NOT EXISTS slotwise_keys;

CREATE TABLE slotwise_keys.data_keys (
    subject_id uuid PRIMARY KEY,
    wrapped bytea,
    kek_version integer,
    created_at timestamptz NOT NULL DEFAULT now(),
    rewrapped_at timestamptz,
    destroyed_at timestamptz,
    CONSTRAINT data_keys_live_or_destroyed CHECK (
        (wrapped IS NOT NULL AND kek_version IS NOT NULL AND destroyed_at IS NULL)
        OR (wrapped IS NULL AND kek_version IS NULL AND destroyed_at IS NOT NULL)
    )
);

-- What a KEK rotation still has to re-wrap.
CREATE INDEX data_keys_by_kek_version ON slotwise_keys.data_keys (kek_version)
    WHERE wrapped IS NOT NULL;
