-- The search read model (PostgreSQL backend), written by the "search" projection (tracking:
-- search_tracking). One row per document, keyed by its aggregate's id and carrying the
-- aggregate version it was built from; a write keeps a row only if its version is newer.
-- Rebuildable at any time from the event store. Queries: infra/search_postgres*.py.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS cube;
CREATE EXTENSION IF NOT EXISTS earthdistance;

-- English stemming over unaccented words, so "Muller" finds "Müller" and "cardiologist"
-- finds "cardiologists".
CREATE TEXT SEARCH CONFIGURATION slotwise_search (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION slotwise_search
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;

CREATE TABLE sr_providers (
    id uuid PRIMARY KEY,
    version integer NOT NULL,
    name text NOT NULL,
    specializations text[] NOT NULL,
    bio text NOT NULL,
    education text NOT NULL,
    languages text[] NOT NULL,
    lat double precision,
    lon double precision,
    address text,
    insurances text[] NOT NULL,
    fee_amount numeric,
    fee_currency text,
    rating numeric,
    accepting_new_patients boolean NOT NULL,
    time_zone text NOT NULL,
    -- Derived when written (unaccent() is not immutable, so these cannot be generated):
    -- the lower-cased unaccented name for trigram and prefix matching, the point on the
    -- earth for radius and distance, and the weighted text (name A, specializations B,
    -- bio and education C).
    name_key text NOT NULL,
    geo earth,
    document tsvector NOT NULL
);
CREATE INDEX sr_providers_document ON sr_providers USING gin (document);
CREATE INDEX sr_providers_name_key ON sr_providers USING gin (name_key gin_trgm_ops);
CREATE INDEX sr_providers_specializations ON sr_providers USING gin (specializations);
CREATE INDEX sr_providers_insurances ON sr_providers USING gin (insurances);
CREATE INDEX sr_providers_geo ON sr_providers USING gist (geo);

CREATE TABLE sr_slots (
    id uuid PRIMARY KEY,
    version integer NOT NULL,
    provider_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    end_at timestamptz NOT NULL,
    appointment_types text[] NOT NULL,
    location text,
    room text,
    status text NOT NULL,
    capacity integer NOT NULL,
    free_seats integer NOT NULL
);
-- Only free slots are ever searched.
CREATE INDEX sr_slots_free_by_provider ON sr_slots (provider_id, start_at)
    WHERE status = 'open' AND free_seats > 0;
CREATE INDEX sr_slots_free_by_start ON sr_slots (start_at)
    WHERE status = 'open' AND free_seats > 0;

CREATE TABLE sr_notes (
    appointment_id uuid PRIMARY KEY,
    version integer NOT NULL,
    patient_id uuid NOT NULL,
    provider_id uuid NOT NULL,
    completed_at timestamptz NOT NULL,
    notes text NOT NULL,
    document tsvector NOT NULL
);
CREATE INDEX sr_notes_document ON sr_notes USING gin (document);
CREATE INDEX sr_notes_patient ON sr_notes (patient_id);
CREATE INDEX sr_notes_provider ON sr_notes (provider_id);

-- The search projection's watermark table (eventsourcing's single-row form with its migration
-- marker), so the API can read the position before the projection first runs.
CREATE TABLE IF NOT EXISTS search_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO search_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
