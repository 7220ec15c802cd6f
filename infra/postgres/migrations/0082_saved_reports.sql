-- Saved analytics reports (issue 14), written by the "analytics" projection from SavedReport
-- events: an analyst's definition of a measure, grouping, filters and period (no figures).
CREATE TABLE an_saved_reports (
    id uuid PRIMARY KEY,
    owner_id uuid NOT NULL,
    name text NOT NULL,
    measure text NOT NULL,
    group_by text,
    provider_id uuid,
    specialty text,
    start_from timestamptz NOT NULL,
    start_to timestamptz NOT NULL,
    saved_at timestamptz NOT NULL
);
CREATE INDEX an_saved_reports_owner ON an_saved_reports (owner_id, saved_at);
