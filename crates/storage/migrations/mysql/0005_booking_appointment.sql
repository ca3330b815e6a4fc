-- The appointment and the region the platform may send with a booking (SPEC §9.1).
ALTER TABLE bookings ADD COLUMN starts_at BIGINT NULL, ADD COLUMN region VARCHAR(2) NULL;
