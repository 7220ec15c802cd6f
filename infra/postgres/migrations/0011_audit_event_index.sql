-- The auditor's index of the event log (docs/audit.md), written by the sealer in the
-- transaction that seals the events: each event's metadata (who, which command, which request
-- chain, when) and which patient each aggregate concerns. Answers are labelled with the seal
-- (leaf and chain hash) and the first checkpoint covering it.
CREATE TABLE audit_events (
    position bigint PRIMARY KEY,
    aggregate_id uuid NOT NULL,
    version bigint NOT NULL,
    topic text NOT NULL,
    recorded_at timestamptz,
    actor_id uuid,
    actor_role text,
    correlation_id uuid,
    causation_id uuid,
    command text,
    idempotency_key text
);
CREATE INDEX audit_events_aggregate ON audit_events (aggregate_id, version);
CREATE INDEX audit_events_actor ON audit_events (actor_id, position);
CREATE INDEX audit_events_correlation ON audit_events (correlation_id);
CREATE INDEX audit_events_recorded ON audit_events (recorded_at);

CREATE TABLE audit_subjects (
    aggregate_id uuid PRIMARY KEY,
    patient_id uuid NOT NULL
);
CREATE INDEX audit_subjects_patient ON audit_subjects (patient_id);
