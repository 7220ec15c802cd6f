-- Issue 11: occurrences of a recurring series and follow-up bookings on the appointment rows,
-- providers' ratings from patient feedback, and open follow-up requests per provider.
-- Rebuildable from the event store like the rest of the scheduling read model.
ALTER TABLE rm_appointments
    ADD COLUMN series_id uuid,
    ADD COLUMN recurrence_id timestamptz,
    ADD COLUMN follows_id uuid;
CREATE INDEX rm_appointments_series ON rm_appointments (series_id, recurrence_id)
    WHERE series_id IS NOT NULL;

ALTER TABLE rm_providers
    ADD COLUMN rating numeric(3, 2),
    ADD COLUMN rating_count integer NOT NULL DEFAULT 0;

CREATE TABLE rm_follow_ups (
    id uuid PRIMARY KEY,
    visit_id uuid NOT NULL,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    appointment_type text NOT NULL,
    interval_days integer NOT NULL,
    due_from timestamptz NOT NULL,
    notes text NOT NULL,
    status text NOT NULL,
    appointment_id uuid,
    requested_at timestamptz NOT NULL,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
CREATE INDEX rm_follow_ups_provider_due ON rm_follow_ups (provider_id, status, due_from);
