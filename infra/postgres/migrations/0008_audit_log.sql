-- The tamper-evident log (docs/audit.md). One row of audit_heads per sealed log (`log` is its
-- checkpoint origin, so another log, such as access records, seals into the same tables), one
-- row of audit_seals per sealed entry and one of audit_checkpoints per signed checkpoint.
-- NOT rebuildable in the sense that matters: the checkpoints were signed at a time; a rebuild
-- would re-sign today. The checkpoints are also written as files outside the database.
CREATE TABLE audit_heads (
    log text PRIMARY KEY,
    size bigint NOT NULL,
    position bigint NOT NULL,       -- the last sealed position in the source log
    chain bytea NOT NULL,           -- h_size
    tree bytea NOT NULL,            -- the compact range: the roots of the perfect subtrees
    horizon bigint NOT NULL DEFAULT 0, -- every position missing at or below it is a known gap
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE audit_seals (
    log text NOT NULL,
    leaf_index bigint NOT NULL,
    position bigint NOT NULL,
    leaf bytea NOT NULL,
    chain bytea NOT NULL,
    PRIMARY KEY (log, leaf_index),
    UNIQUE (log, position)
);

CREATE TABLE audit_checkpoints (
    log text NOT NULL,
    size bigint NOT NULL,
    root bytea NOT NULL,
    note text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (log, size)
);
