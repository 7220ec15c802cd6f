-- The scheduling read model. Rebuildable at any time from the event store.
CREATE TABLE rm_providers (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL,
    specializations text[] NOT NULL DEFAULT '{}',
    profile jsonb NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rm_patients (
    id uuid PRIMARY KEY,
    name text NOT NULL,
    time_zone text NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE TABLE rm_slots (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    capacity integer NOT NULL,
    overbook_allowance integer NOT NULL,
    appointment_types text[] NOT NULL,
    location text,
    room text,
    status text NOT NULL,
    block_reason text,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rm_slots_provider_start ON rm_slots (provider_id, start_at);
CREATE INDEX rm_slots_open_start ON rm_slots (start_at) WHERE status = 'open';

-- One row per seat taken; a hold stops counting once hold_expires_at has passed.
CREATE TABLE rm_slot_seats (
    slot_id uuid NOT NULL,
    appointment_id uuid NOT NULL,
    hold_expires_at timestamptz,
    overbooked boolean NOT NULL,
    PRIMARY KEY (slot_id, appointment_id)
);

CREATE TABLE rm_appointments (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    appointment_type text NOT NULL,
    reason text NOT NULL,
    status text NOT NULL,
    hold_expires_at timestamptz,
    created_at timestamptz NOT NULL,
    booked_at timestamptz,
    confirmed_at timestamptz,
    checked_in_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    no_show_at timestamptz,
    wait_seconds integer,
    duration_seconds integer,
    follow_up_requested boolean,
    cancel_reason text,
    cancelled_by_role text,
    late_cancellation boolean,
    cancellation_fee numeric(12, 2),
    cancellation_currency text,
    rescheduled_from timestamptz,
    overbooked boolean NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rm_appointments_patient_start ON rm_appointments (patient_id, start_at);
CREATE INDEX rm_appointments_provider_start ON rm_appointments (provider_id, start_at);
CREATE INDEX rm_appointments_slot ON rm_appointments (slot_id);
