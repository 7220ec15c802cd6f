-- State of the event fan-out: the relay's position, and what each Kafka-fed projection has
-- applied (per aggregate, for duplicate and gap detection) and consumed (per partition).
CREATE TABLE relay_positions (
    relay text PRIMARY KEY,
    position bigint NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE projection_versions (
    projection text NOT NULL,
    aggregate_id uuid NOT NULL,
    version integer NOT NULL,
    PRIMARY KEY (projection, aggregate_id)
);

CREATE TABLE projection_offsets (
    projection text NOT NULL,
    topic text NOT NULL,
    partition integer NOT NULL,
    next_offset bigint NOT NULL,
    PRIMARY KEY (projection, topic, partition)
);

CREATE TABLE projection_dead_letters (
    projection text NOT NULL,
    event_id uuid NOT NULL,
    position bigint NOT NULL,
    aggregate_id uuid NOT NULL,
    aggregate_version integer NOT NULL,
    event_type text NOT NULL,
    error text NOT NULL,
    attempts integer NOT NULL,
    skipped boolean NOT NULL,
    failed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, event_id)
);

CREATE TABLE projection_status (
    projection text PRIMARY KEY,
    last_error text,
    last_error_at timestamptz,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- The watermark table the eventsourcing library's tracking recorder uses (single-row form,
-- with its migration marker), so a Kafka-fed projection can start before any direct runner.
CREATE TABLE IF NOT EXISTS scheduling_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO scheduling_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
