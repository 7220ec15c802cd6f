-- The analytics read model, written by the "analytics" projection (tracking: analytics_tracking).
-- Every row is written only by events of the aggregate whose id keys it, so the tables stay
-- right whatever order events of different aggregates arrive in; anything that crosses
-- aggregates (the provider's zone, specialty, fee) is joined at query time by the views below.
-- Rebuildable at any time from the event store. Definitions of the measures: docs/analytics.md.

-- Provider dimension: specialty is the first of the provider's specializations.
CREATE TABLE an_providers (
    id uuid PRIMARY KEY,
    name text,
    time_zone text,
    specialty text,
    fee_amount numeric,
    fee_currency text,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);

-- One fact row per appointment, with each lifecycle instant.
CREATE TABLE an_appointments (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    slot_id uuid NOT NULL,
    appointment_type text NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    status text NOT NULL,
    overbooked boolean NOT NULL,
    scheduled_at timestamptz NOT NULL,
    booked_at timestamptz,
    confirmed_at timestamptz,
    checked_in_at timestamptz,
    started_at timestamptz,
    completed_at timestamptz,
    cancelled_at timestamptz,
    no_show_at timestamptz,
    hold_expired_at timestamptz,
    rescheduled_at timestamptz,
    wait_seconds integer,
    duration_seconds integer,
    late_cancellation boolean,
    follow_up_requested boolean,
    -- Booking to (current) start; negative for a walk-in booked after its start.
    lead_time_seconds bigint
        GENERATED ALWAYS AS (extract(epoch FROM (start_at - booked_at))::bigint) STORED,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX an_appointments_start ON an_appointments (start_at);
CREATE INDEX an_appointments_provider_start ON an_appointments (provider_id, start_at);

-- One fact row per slot; its seats below (a hold is a seat that is not booked yet).
CREATE TABLE an_slots (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    capacity integer NOT NULL,
    status text NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX an_slots_start ON an_slots (start_at);
CREATE INDEX an_slots_provider_start ON an_slots (provider_id, start_at);

CREATE TABLE an_slot_seats (
    slot_id uuid NOT NULL,
    appointment_id uuid NOT NULL,
    held boolean NOT NULL,
    PRIMARY KEY (slot_id, appointment_id)
);

-- Appointment facts with the provider dimension joined in, bucketed by day and hour in the
-- provider's own zone (UTC until the provider's row is there). The fee is the provider's
-- current consultation fee: appointment events do not carry the fee at booking time.
CREATE VIEW an_appointment_facts AS
SELECT a.id, a.provider_id, a.patient_id, a.slot_id, a.appointment_type, a.start_at, a.end_at,
       a.status, a.overbooked, a.scheduled_at, a.booked_at, a.confirmed_at, a.checked_in_at,
       a.started_at, a.completed_at, a.cancelled_at, a.no_show_at, a.hold_expired_at,
       a.rescheduled_at, a.wait_seconds, a.duration_seconds, a.late_cancellation,
       a.follow_up_requested, a.lead_time_seconds,
       p.name AS provider_name, p.specialty, p.fee_amount, p.fee_currency,
       z.time_zone,
       (a.start_at AT TIME ZONE z.time_zone)::date AS local_day,
       extract(hour FROM a.start_at AT TIME ZONE z.time_zone)::integer AS local_hour
  FROM an_appointments a
  LEFT JOIN an_providers p ON p.id = a.provider_id
 CROSS JOIN LATERAL (SELECT coalesce(p.time_zone, 'UTC') AS time_zone) z;

-- Slot facts: seat-minutes count only while the slot is open (blocked or cancelled slots offer
-- no time); overbooked seats are booked seats beyond capacity.
CREATE VIEW an_slot_facts AS
SELECT s.id, s.provider_id, s.start_at, s.end_at, s.capacity, s.status,
       p.name AS provider_name, p.specialty,
       z.time_zone,
       (s.start_at AT TIME ZONE z.time_zone)::date AS local_day,
       d.minutes,
       seats.booked AS booked_seats,
       seats.held AS held_seats,
       greatest(seats.booked - s.capacity, 0) AS overbooked_seats,
       CASE WHEN s.status = 'open' THEN s.capacity * d.minutes ELSE 0 END AS open_seat_minutes,
       CASE WHEN s.status = 'open' THEN seats.booked * d.minutes ELSE 0 END AS booked_seat_minutes
  FROM an_slots s
  LEFT JOIN an_providers p ON p.id = s.provider_id
 CROSS JOIN LATERAL (SELECT coalesce(p.time_zone, 'UTC') AS time_zone) z
 CROSS JOIN LATERAL (SELECT extract(epoch FROM (s.end_at - s.start_at)) / 60 AS minutes) d
 CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE NOT st.held) AS booked,
              count(*) FILTER (WHERE st.held) AS held
         FROM an_slot_seats st
        WHERE st.slot_id = s.id
 ) seats;
