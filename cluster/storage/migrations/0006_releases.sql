-- What `tutor deploy` and `tutor rollback` applied: the serve config as rendered, the code,
-- model and index versions, the migration level, and whether it went live or was rolled back.
CREATE TABLE releases (
    id BIGSERIAL PRIMARY KEY,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
    environment TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('applying', 'applied', 'verified', 'failed')),
    detail TEXT NOT NULL DEFAULT '',
    config TEXT NOT NULL,
    code_revision TEXT NOT NULL,
    model_versions JSONB NOT NULL DEFAULT '{}',
    index_versions JSONB NOT NULL DEFAULT '{}',
    migration_level TEXT NOT NULL DEFAULT '',
    rollback_of BIGINT REFERENCES releases (id),
    by_whom TEXT NOT NULL DEFAULT ''
);
