-- The analytics projection's watermark table (eventsourcing's single-row form with its
-- migration marker), so the Kafka-fed analytics worker can start before any direct runner.
CREATE TABLE IF NOT EXISTS analytics_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO analytics_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
