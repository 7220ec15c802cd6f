-- Notifications and reminders (issue 10).
-- Every message on every channel: the due table (status 'planned' until its time) and then the
-- delivery record. The reminder policy keeps the planned rows of each appointment equal to its
-- desired reminders (tracking: notifications_tracking); the scheduler hands due rows to send
-- jobs; the jobs and the provider's callbacks move the status on. `dedupe_key` is one send per
-- (appointment, kind, start, channel) or per (event, channel), and holds no personal data.
CREATE TABLE notification_deliveries (
    id uuid PRIMARY KEY,
    dedupe_key text NOT NULL UNIQUE,
    patient_id uuid NOT NULL,
    appointment_id uuid,
    provider_id uuid,                 -- the appointment's provider (bulk notices)
    kind text NOT NULL,               -- confirmation, reminder_1440m, reschedule, cancellation...
    category text NOT NULL,           -- appointments, reminders, payments, marketing
    channel text NOT NULL,            -- sms, whatsapp, email, push, in_app
    start_at timestamptz,             -- the appointment start it was planned for
    appointment_version integer,      -- the appointment's version when planned
    due_at timestamptz NOT NULL,
    deadline timestamptz,             -- never sent at or after (a reminder's start)
    status text NOT NULL,             -- planned queued sending sent delivered failed undelivered skipped
    reason text,                      -- why skipped or failed (a code, never personal data)
    provider_message_id text,         -- Twilio's SID, the SMTP queue id...
    recipient_digest text,            -- keyed hash of the address sent to (inbound STOP lookup)
    attempts integer NOT NULL DEFAULT 0,
    fallback_of uuid,                 -- the delivery this one stands in for (SMS -> email -> in-app)
    event_id uuid,                    -- the event that asked for it (notices)
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    queued_at timestamptz,
    lease_until timestamptz,          -- a send job holds the delivery until then
    sent_at timestamptz
);
CREATE INDEX notification_deliveries_due ON notification_deliveries (due_at)
    WHERE status = 'planned';
CREATE INDEX notification_deliveries_stuck ON notification_deliveries (queued_at)
    WHERE status IN ('queued', 'sending');
CREATE INDEX notification_deliveries_patient ON notification_deliveries (patient_id, created_at);
CREATE INDEX notification_deliveries_appointment ON notification_deliveries (appointment_id);
CREATE INDEX notification_deliveries_recipient ON notification_deliveries (recipient_digest)
    WHERE recipient_digest IS NOT NULL;
CREATE INDEX notification_deliveries_provider_message ON notification_deliveries (provider_message_id)
    WHERE provider_message_id IS NOT NULL;

-- Each status a provider reported, once: callbacks are deduplicated on (provider id, status).
CREATE TABLE notification_delivery_statuses (
    provider_message_id text NOT NULL,
    status text NOT NULL,
    delivery_id uuid NOT NULL,
    error_code text,
    received_at timestamptz NOT NULL,
    PRIMARY KEY (provider_message_id, status)
);

-- The appointments the policy planned for, so a preference change re-plans a patient's.
CREATE TABLE notification_plans (
    appointment_id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    start_at timestamptz NOT NULL,
    status text NOT NULL,
    version integer NOT NULL,
    provider_id uuid NOT NULL
);
CREATE INDEX notification_plans_patient ON notification_plans (patient_id);
CREATE INDEX notification_plans_provider ON notification_plans (provider_id, start_at);

-- The in-app inbox: written by the send job for every message (the in-app copy).
CREATE TABLE notification_inbox (
    id uuid PRIMARY KEY,
    patient_id uuid NOT NULL,
    delivery_id uuid NOT NULL UNIQUE,
    category text NOT NULL,
    kind text NOT NULL,
    appointment_id uuid,
    title text NOT NULL,
    body text NOT NULL,
    link text,
    created_at timestamptz NOT NULL,
    read_at timestamptz
);
CREATE INDEX notification_inbox_patient ON notification_inbox (patient_id, created_at DESC);
CREATE INDEX notification_inbox_unread ON notification_inbox (patient_id) WHERE read_at IS NULL;

-- Dev mode's recording channels: what would have been sent (one row per idempotency key).
CREATE TABLE notification_outbox (
    id bigserial PRIMARY KEY,
    key text NOT NULL UNIQUE,
    channel text NOT NULL,
    recipient text NOT NULL,
    subject text,
    body text NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now()
);

-- Staff bulk notices: one row per (provider, day) send, for the rate limit.
CREATE TABLE notification_bulk_notices (
    id uuid PRIMARY KEY,
    provider_id uuid NOT NULL,
    day date NOT NULL,
    sent_by uuid NOT NULL,
    recipients integer NOT NULL,
    created_at timestamptz NOT NULL
);
CREATE INDEX notification_bulk_notices_provider ON notification_bulk_notices (provider_id, created_at);

CREATE TABLE IF NOT EXISTS notifications_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO notifications_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
