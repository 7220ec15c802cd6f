-- The waitlist (issue 11), written by the `waitlist` projection (tracking: waitlist_tracking).
CREATE TABLE rm_waitlist_entries (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    provider_id uuid,
    specialty text,
    appointment_type text NOT NULL,
    time_zone text NOT NULL,
    earliest date NOT NULL,
    deadline date,
    windows jsonb NOT NULL,
    has_area boolean NOT NULL,       -- the area itself is the patient's personal data
    tier integer NOT NULL,
    joined_at timestamptz NOT NULL,
    origin text NOT NULL,
    moves_appointment_id uuid,
    moves_start timestamptz,
    status text NOT NULL,
    cooldown_until timestamptz,
    offer_id uuid,                   -- the open offer, if any
    accepted_appointment_id uuid,
    closed_reason text,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rm_waitlist_entries_queue ON rm_waitlist_entries (status, tier, joined_at, id);
CREATE INDEX rm_waitlist_entries_patient ON rm_waitlist_entries (patient_id, joined_at);

CREATE TABLE rm_waitlist_offers (
    offer_id uuid PRIMARY KEY,
    entry_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    appointment_id uuid NOT NULL,    -- the hold on the seat
    slot_start timestamptz NOT NULL,
    offered_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    status text NOT NULL,            -- open, accepted, declined, expired, withdrawn
    answered_at timestamptz,
    -- Record times (the events' own), which the metrics compare with the openings' freed_at.
    recorded_at timestamptz NOT NULL,
    answer_recorded_at timestamptz,
    rank jsonb NOT NULL,             -- why this entry: the rank inputs, for auditors
    opening_id text,
    moved_appointment_id uuid,
    moved_from_start timestamptz
);
CREATE INDEX rm_waitlist_offers_entry ON rm_waitlist_offers (entry_id, offered_at);
CREATE INDEX rm_waitlist_offers_open ON rm_waitlist_offers (status, expires_at);
CREATE INDEX rm_waitlist_offers_provider ON rm_waitlist_offers (provider_id, recorded_at);
CREATE INDEX rm_waitlist_offers_slot ON rm_waitlist_offers (slot_id, status);

-- The offer policy's work: what the projection saw (rows) and what the policy did with it
-- (resolved_at / handled_at, written by the policy alone).
CREATE TABLE waitlist_slots (
    slot_id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    appointment_types text[] NOT NULL
);
CREATE TABLE waitlist_providers (
    provider_id uuid PRIMARY KEY,
    specializations text[] NOT NULL DEFAULT '{}'
);
CREATE TABLE waitlist_openings (
    id text PRIMARY KEY,             -- the freeing event: slot id / version
    slot_id uuid NOT NULL,
    kind text NOT NULL,              -- released, unblocked, created
    reason text,                     -- why the seat was released (the Slot event's reason)
    freed_at timestamptz NOT NULL,
    resolved_at timestamptz,
    outcome text                     -- offered, no_candidate, no_seat
);
CREATE INDEX waitlist_openings_pending ON waitlist_openings (freed_at) WHERE resolved_at IS NULL;
CREATE INDEX waitlist_openings_slot ON waitlist_openings (slot_id);
CREATE TABLE waitlist_bookings (
    appointment_id uuid NOT NULL,
    kind text NOT NULL,              -- booked, completed
    patient_id uuid,
    at timestamptz NOT NULL,
    handled_at timestamptz,
    PRIMARY KEY (appointment_id, kind)
);
CREATE INDEX waitlist_bookings_pending ON waitlist_bookings (at) WHERE handled_at IS NULL;
CREATE TABLE waitlist_displaced (
    appointment_id uuid NOT NULL,
    cause text NOT NULL,             -- blocked, clinic_cancelled
    at timestamptz NOT NULL,
    handled_at timestamptz,
    PRIMARY KEY (appointment_id, cause)
);

CREATE TABLE IF NOT EXISTS waitlist_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO waitlist_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
