-- Users (the profile the tutor adapts to) and the request log (one row per answered request).
CREATE TABLE users (
    id          TEXT PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9_.@-]{1,128}$'),
    display_name TEXT NOT NULL DEFAULT '',
    class_level SMALLINT CHECK (class_level BETWEEN 1 AND 13),
    subjects    TEXT[] NOT NULL DEFAULT '{}',
    progress    JSONB NOT NULL DEFAULT '{}'::jsonb,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE request_log (
    id              BIGSERIAL PRIMARY KEY,
    request_id      TEXT NOT NULL,
    at              TIMESTAMPTZ NOT NULL DEFAULT now(),
    endpoint        TEXT NOT NULL,
    user_id         TEXT,
    session_id      TEXT,
    question        TEXT,
    subject         TEXT,
    query_class     TEXT,
    route           TEXT,
    model           TEXT,
    model_version   TEXT,
    cache_hit       BOOLEAN NOT NULL DEFAULT false,
    status          TEXT NOT NULL,
    latency_ms      REAL NOT NULL,
    prompt_tokens   INTEGER NOT NULL DEFAULT 0,
    completion_tokens INTEGER NOT NULL DEFAULT 0,
    source_ids      TEXT[] NOT NULL DEFAULT '{}'
);
CREATE INDEX request_log_at ON request_log (at);
CREATE INDEX request_log_question ON request_log (question) WHERE status = 'ok';
