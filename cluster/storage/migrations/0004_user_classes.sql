-- The classes a student belongs to (from their token's `classes` claim): a teacher of one of
-- them may read the student's profile.
ALTER TABLE users ADD COLUMN classes TEXT[] NOT NULL DEFAULT '{}';
