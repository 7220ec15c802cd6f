-- Issue 11 in the analytics model: which visits were follow-ups or occurrences of a series (for
-- a follow-up rate and series figures), and each provider's rating from patient feedback.
ALTER TABLE an_appointments
    ADD COLUMN series_id uuid,
    ADD COLUMN follows_id uuid;

ALTER TABLE an_providers
    ADD COLUMN rating numeric(3, 2),
    ADD COLUMN rating_count integer NOT NULL DEFAULT 0;
