-- Ended sessions: their transcript and summary, kept after Redis lets them go.
CREATE TABLE session_archive (
    session_id  TEXT PRIMARY KEY,
    user_id     TEXT NOT NULL,
    started_at  TIMESTAMPTZ NOT NULL,
    ended_at    TIMESTAMPTZ NOT NULL DEFAULT now(),
    turns       JSONB NOT NULL,
    summary     TEXT NOT NULL DEFAULT ''
);
CREATE INDEX session_archive_user ON session_archive (user_id, ended_at);
