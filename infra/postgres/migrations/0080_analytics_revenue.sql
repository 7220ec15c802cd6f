-- Revenue (issue 14), written by the "analytics" projection from Account events, and the fee
-- recorded on each booking. Rebuildable from the event store like the rest of the model; every
-- row is written only by events of the one Account whose entries it holds.
-- Definitions of the measures: docs/analytics.md.

-- The fee in force when the appointment was scheduled, from its Scheduled event (null for
-- bookings recorded before fees were kept on them), instead of the provider's current fee.
ALTER TABLE an_appointments
    ADD COLUMN fee_amount numeric,
    ADD COLUMN fee_currency text,
    ADD COLUMN late_cancellation_fee numeric,
    ADD COLUMN no_show_fee numeric,
    ADD COLUMN policy_currency text;

CREATE OR REPLACE VIEW an_appointment_facts AS
SELECT a.id, a.provider_id, a.patient_id, a.slot_id, a.appointment_type, a.start_at, a.end_at,
       a.status, a.overbooked, a.scheduled_at, a.booked_at, a.confirmed_at, a.checked_in_at,
       a.started_at, a.completed_at, a.cancelled_at, a.no_show_at, a.hold_expired_at,
       a.rescheduled_at, a.wait_seconds, a.duration_seconds, a.late_cancellation,
       a.follow_up_requested, a.lead_time_seconds,
       p.name AS provider_name, p.specialty, a.fee_amount, a.fee_currency,
       z.time_zone,
       (a.start_at AT TIME ZONE z.time_zone)::date AS local_day,
       extract(hour FROM a.start_at AT TIME ZONE z.time_zone)::integer AS local_hour
  FROM an_appointments a
  LEFT JOIN an_providers p ON p.id = a.provider_id
 CROSS JOIN LATERAL (SELECT coalesce(p.time_zone, 'UTC') AS time_zone) z;

-- One row per appointment account: who and what it is for (ids and codes only).
CREATE TABLE an_accounts (
    id uuid PRIMARY KEY,
    appointment_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    appointment_type text NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Payments and refunds: one row per entry; a refund carries its payment's method and currency.
CREATE TABLE an_payments (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    amount numeric NOT NULL,
    currency text NOT NULL,
    method text NOT NULL,
    paid_at timestamptz NOT NULL
);
CREATE INDEX an_payments_paid_at ON an_payments (paid_at);

CREATE TABLE an_refunds (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    payment_id uuid NOT NULL,
    amount numeric NOT NULL,
    currency text NOT NULL,
    method text NOT NULL,
    full_refund boolean NOT NULL,
    reason text NOT NULL,
    refunded_at timestamptz NOT NULL
);
CREATE INDEX an_refunds_refunded_at ON an_refunds (refunded_at);

-- Fees the policy charged, and their waiver when staff waived them.
CREATE TABLE an_fees (
    id uuid PRIMARY KEY,
    account_id uuid NOT NULL,
    kind text NOT NULL,
    amount numeric NOT NULL,
    currency text NOT NULL,
    charged_at timestamptz NOT NULL,
    waived_at timestamptz,
    waiver_reason text
);

-- Money entries with their appointment's dimensions, bucketed by the day of the entry (the
-- payment's or the refund's own time) in the provider's zone. `entry` is payment or refund;
-- amounts are positive.
CREATE VIEW an_revenue_facts AS
SELECT e.entry, e.id, e.amount, e.currency, e.method, e.at,
       ac.appointment_id, ac.provider_id, ac.appointment_type,
       p.name AS provider_name, p.specialty, z.time_zone,
       (e.at AT TIME ZONE z.time_zone)::date AS local_day
  FROM (SELECT 'payment' AS entry, id, account_id, amount, currency, method, paid_at AS at
          FROM an_payments
        UNION ALL
        SELECT 'refund', id, account_id, amount, currency, method, refunded_at
          FROM an_refunds) e
  JOIN an_accounts ac ON ac.id = e.account_id
  LEFT JOIN an_providers p ON p.id = ac.provider_id
 CROSS JOIN LATERAL (SELECT coalesce(p.time_zone, 'UTC') AS time_zone) z;
