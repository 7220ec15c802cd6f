-- Demographic bands of each patient for analytics (issue 14), written by the "analytics"
-- projection from Patient events after decrypting them: only coarse values are kept (birth
-- year, sex and gender codes, the first three characters of the postal code), never a name,
-- a full birth date or a full postal code. The row is deleted when the patient is erased, and
-- a rebuild after erasure reads the destroyed key's values as erased, so it writes no bands.
CREATE TABLE an_patient_bands (
    patient_id uuid PRIMARY KEY,
    birth_year integer,
    sex text,
    gender text,
    postal_prefix text,
    version integer NOT NULL,
    updated_at timestamptz NOT NULL
);
