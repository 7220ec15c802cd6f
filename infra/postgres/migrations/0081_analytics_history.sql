-- Slot history for the analytics model (issue 14): what each slot was at every moment, so
-- utilization and third-next-available are measured as the slot was then, not as it is now.
-- Written by the "analytics" projection from Slot events only (each row keyed by the slot),
-- at the events' recorded times. Rebuildable from the event store.

-- The appointment types a slot offers (third-next-available is per type).
ALTER TABLE an_slots ADD COLUMN appointment_types text[];

-- One row per status change of a slot: open on creation, blocked, unblocked, cancelled.
-- A status lasts from its row's `at` to the next row's.
CREATE TABLE an_slot_status_history (
    slot_id uuid NOT NULL,
    version integer NOT NULL,
    at timestamptz NOT NULL,
    status text NOT NULL,
    PRIMARY KEY (slot_id, version)
);

-- One row per seat an appointment took on a slot: taken (a hold or a booking) at `taken_at`,
-- booked from `booked_at` (the booking, or the hold's conversion; null while only held),
-- released at `released_at` (cancelled, rescheduled away, hold expired; null while kept).
CREATE TABLE an_seat_history (
    slot_id uuid NOT NULL,
    appointment_id uuid NOT NULL,
    taken_at timestamptz NOT NULL,
    booked_at timestamptz,
    released_at timestamptz,
    PRIMARY KEY (slot_id, appointment_id)
);
CREATE INDEX an_slots_provider_end ON an_slots (provider_id, end_at);

-- Minutes covered by a set of time ranges (each bounded), for the seat-minute measures.
CREATE FUNCTION an_minutes(ranges tstzmultirange) RETURNS numeric
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT coalesce(sum(extract(epoch FROM upper(r) - lower(r))), 0) / 60 FROM unnest(ranges) r $$;

-- The end of a state that began at `since`: `until`, never before `since` (a clock stepping
-- back between two events gives an empty range, not an error); null (open-ended) stays null.
CREATE FUNCTION an_until(since timestamptz, until timestamptz) RETURNS timestamptz
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN until IS NULL THEN NULL ELSE greatest(since, until) END $$;
