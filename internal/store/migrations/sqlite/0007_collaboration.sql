-- Working together: the activity log of every change, comments, watches,
-- notifications, webhooks with their deliveries.

-- Append-only: no route edits it, and the database refuses to as well.
CREATE TABLE activity (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER,
    item_kind  TEXT NOT NULL,
    item_id    INTEGER NOT NULL,
    item_ref   TEXT NOT NULL,
    action     TEXT NOT NULL,
    actor_id   INTEGER,
    actor      TEXT NOT NULL DEFAULT '',
    changes    TEXT NOT NULL DEFAULT '[]',
    at         TIMESTAMP NOT NULL
);
CREATE INDEX activity_item ON activity (item_kind, item_id, id);
CREATE INDEX activity_product ON activity (product_id, id);
CREATE TRIGGER activity_no_update BEFORE UPDATE ON activity
BEGIN
    SELECT RAISE(ABORT, 'activity is append-only');
END;
CREATE TRIGGER activity_no_delete BEFORE DELETE ON activity
BEGIN
    SELECT RAISE(ABORT, 'activity is append-only');
END;

CREATE TABLE comments (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    item_kind  TEXT NOT NULL,
    item_id    INTEGER NOT NULL,
    author_id  INTEGER REFERENCES users (id) ON DELETE SET NULL,
    body       TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    edited_at  TIMESTAMP
);
CREATE INDEX comments_item ON comments (item_kind, item_id, id);

CREATE TABLE watches (
    user_id   INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    item_kind TEXT NOT NULL,
    item_id   INTEGER NOT NULL,
    watching  BOOLEAN NOT NULL,
    PRIMARY KEY (user_id, item_kind, item_id)
);
CREATE INDEX watches_item ON watches (item_kind, item_id);

CREATE TABLE notifications (
    id          INTEGER PRIMARY KEY,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    activity_id INTEGER NOT NULL REFERENCES activity (id),
    reason      TEXT NOT NULL CHECK (reason IN ('mention', 'assigned', 'watching', 'stage', 'webhook')),
    created_at  TIMESTAMP NOT NULL,
    read_at     TIMESTAMP,
    emailed_at  TIMESTAMP
);
CREATE INDEX notifications_user ON notifications (user_id, id);
CREATE INDEX notifications_unemailed ON notifications (emailed_at) WHERE emailed_at IS NULL;

CREATE TABLE webhooks (
    id         INTEGER PRIMARY KEY,
    product_id INTEGER NOT NULL REFERENCES products (id) ON DELETE CASCADE,
    url        TEXT NOT NULL,
    secret     TEXT NOT NULL,
    events     TEXT NOT NULL DEFAULT '*',
    active     BOOLEAN NOT NULL DEFAULT 1,
    failures   INTEGER NOT NULL DEFAULT 0,
    disabled_reason TEXT NOT NULL DEFAULT '',
    -- The process delivering this webhook's queue, so that with several
    -- servers one of them sends it, in order.
    lease_owner TEXT NOT NULL DEFAULT '',
    lease_until TIMESTAMP,
    created_by INTEGER REFERENCES users (id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX webhooks_product ON webhooks (product_id);

-- The outbox: a delivery row is written with the change it reports, in the
-- same transaction, and a worker sends it after the commit.
CREATE TABLE webhook_deliveries (
    id            INTEGER PRIMARY KEY,
    webhook_id    INTEGER NOT NULL REFERENCES webhooks (id) ON DELETE CASCADE,
    activity_id   INTEGER,
    event         TEXT NOT NULL,
    payload       TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    next_attempt  TIMESTAMP NOT NULL,
    response_code INTEGER,
    response_body TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    created_at    TIMESTAMP NOT NULL,
    delivered_at  TIMESTAMP
);
CREATE INDEX webhook_deliveries_queue ON webhook_deliveries (webhook_id, status, id);
