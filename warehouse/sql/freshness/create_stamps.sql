-- What each output was built from: one row per build (append-only; the newest row counts).
CREATE TABLE IF NOT EXISTS output_stamps (
    output VARCHAR NOT NULL,     -- pipeline step, e.g. 'recsys train', 'inventory plan'
    ref VARCHAR,                 -- the output's own id when it has one (model version, run id)
    inputs VARCHAR NOT NULL,     -- JSON {input: generation} read before the build started
    built_at TIMESTAMP NOT NULL
)
