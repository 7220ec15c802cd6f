-- Lets the hold sweeper find overdue holds without scanning every appointment.
CREATE INDEX rm_appointments_open_holds ON rm_appointments (hold_expires_at) WHERE status = 'held';
