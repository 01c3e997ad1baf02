-- Product metrics: time series a product records (active users, sales,
-- revenue, churn), one value a day. Days are stored as whole days since
-- 1970-01-01, the same integer on both engines: compact, exact and quick
-- to range over for five years of daily values.

CREATE TABLE metrics (
    id          INTEGER PRIMARY KEY,
    product_id  INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    key         TEXT NOT NULL,
    name        TEXT NOT NULL,
    unit        TEXT NOT NULL DEFAULT '',
    direction   TEXT NOT NULL CHECK (direction IN ('up', 'down')),
    description TEXT NOT NULL DEFAULT '',
    created_by  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at  TIMESTAMP NOT NULL,
    UNIQUE (product_id, key)
);

CREATE TABLE metric_points (
    metric_id  INTEGER NOT NULL REFERENCES metrics (id) ON DELETE CASCADE,
    day        INTEGER NOT NULL,
    value      REAL NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (metric_id, day)
) WITHOUT ROWID;
