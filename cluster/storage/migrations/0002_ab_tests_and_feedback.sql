-- A/B arms, fallbacks and cost on every logged answer; user feedback on answers.
ALTER TABLE request_log
    ADD COLUMN ab_arm    TEXT NOT NULL DEFAULT '',
    ADD COLUMN backend   TEXT,
    ADD COLUMN fallbacks SMALLINT NOT NULL DEFAULT 0,
    ADD COLUMN cost_usd  DOUBLE PRECISION NOT NULL DEFAULT 0;
CREATE UNIQUE INDEX request_log_request_id ON request_log (request_id);

CREATE TABLE feedback (
    id          BIGSERIAL PRIMARY KEY,
    request_id  TEXT NOT NULL REFERENCES request_log (request_id) ON DELETE CASCADE,
    rating      SMALLINT NOT NULL CHECK (rating IN (-1, 1)),
    comment     TEXT NOT NULL DEFAULT '' CHECK (length(comment) <= 2000),
    at          TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX feedback_request ON feedback (request_id);
