-- Read audit (docs/audit.md): one access record per API read of patient data, committed before
-- the response is sent. The columns the sealer reads have the event store's names, so the same
-- sealer, export and verifier serve this log under an origin of its own: `state` holds the
-- record as JSON bytes and is what is hashed; the other columns only find records (a changed
-- column cannot hide one: the answer is decoded from the sealed bytes).
CREATE TABLE audit_access (
    notification_id bigserial PRIMARY KEY,  -- the record's position in the access log
    originator_id uuid NOT NULL UNIQUE,     -- the record's id
    originator_version bigint NOT NULL DEFAULT 1,
    topic text NOT NULL,                    -- the record format, e.g. slotwise.access-record.v1
    state bytea NOT NULL,
    recorded_at timestamptz NOT NULL,
    actor_id uuid,
    actor_role text,
    patient_ids uuid[] NOT NULL DEFAULT '{}',
    outcome integer NOT NULL
);
CREATE INDEX audit_access_patients ON audit_access USING gin (patient_ids);
CREATE INDEX audit_access_actor ON audit_access (actor_id, recorded_at);
CREATE INDEX audit_access_recorded ON audit_access (recorded_at);

-- Append-only for everyone but whoever drops this trigger (a superuser can; the seals and the
-- signed checkpoints are what then tell).
CREATE FUNCTION audit_access_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'access records are append-only';
END $$;
CREATE TRIGGER audit_access_append_only BEFORE UPDATE OR DELETE ON audit_access
    FOR EACH ROW EXECUTE FUNCTION audit_access_append_only();
