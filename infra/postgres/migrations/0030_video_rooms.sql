-- Video visits (issue 13), written by the `video` projection (tracking: video_tracking).
-- The room policy's plans: what each video visit wants of its room, and what the room is.
CREATE TABLE video_room_plans (
    appointment_id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    wanted text NOT NULL,            -- held, open or closed
    close_reason text,               -- completed, cancelled, no_show (when closed)
    room_id uuid UNIQUE,             -- set once a room was opened
    room_open boolean NOT NULL DEFAULT false,
    room_start_at timestamptz,       -- the times the room was last recorded with
    room_end_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX video_room_plans_due ON video_room_plans (wanted, room_open, start_at);

CREATE TABLE rm_video_rooms (
    appointment_id uuid PRIMARY KEY,
    room_id uuid NOT NULL UNIQUE,
    room_name text NOT NULL,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    provider text NOT NULL,
    status text NOT NULL,            -- open or closed
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    opened_at timestamptz NOT NULL,
    closed_at timestamptz,
    close_reason text,
    consent_recorded_at timestamptz,
    consent_recorded_by uuid,
    consent_recorded_by_role text,
    version integer NOT NULL
);

CREATE TABLE rm_video_participants (
    room_id uuid NOT NULL,
    identity text NOT NULL,          -- role:uuid, never a name
    role text NOT NULL,
    joins integer NOT NULL DEFAULT 0,  -- joins - 1 = reconnects
    first_joined_at timestamptz,
    in_room_since timestamptz,
    last_left_at timestamptz,
    seconds_in_room double precision NOT NULL DEFAULT 0,
    last_disconnect_reason text,
    PRIMARY KEY (room_id, identity)
);

CREATE TABLE rm_video_recordings (
    room_id uuid NOT NULL,
    started_at timestamptz NOT NULL,
    started_by uuid NOT NULL,
    stopped_at timestamptz,
    PRIMARY KEY (room_id, started_at)
);

-- The video projection's watermark, so readers find it before its first run.
CREATE TABLE IF NOT EXISTS video_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO video_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
