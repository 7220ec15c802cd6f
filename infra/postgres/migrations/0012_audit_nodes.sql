-- The roots of the sealed logs' perfect subtrees (level 1 and up; level 0 is the leaf in
-- audit_seals), written by the sealer with each batch, so an inclusion or consistency proof
-- reads O(log n) hashes instead of every leaf (docs/audit.md). A log sealed before this
-- migration has none for its old leaves; proofs compute those from the leaves.
CREATE TABLE audit_nodes (
    log text NOT NULL,
    level smallint NOT NULL,
    idx bigint NOT NULL,
    hash bytea NOT NULL,
    PRIMARY KEY (log, level, idx)
);
