-- The recording policy (issue 13, workers/video_recording.py): a tracked consumer of the
-- VideoRoom's RecordingStarted/RecordingStopped events that makes the video provider record or
-- stop. Its position, in the shape of eventsourcing's single-row tracking table (as
-- video_tracking in 0030); the library creates no tables outside `prepare`.
CREATE TABLE IF NOT EXISTS video_recording_tracking (
    application_name text PRIMARY KEY,
    notification_id bigint
);
INSERT INTO video_recording_tracking VALUES ('__migration__', 1) ON CONFLICT DO NOTHING;
