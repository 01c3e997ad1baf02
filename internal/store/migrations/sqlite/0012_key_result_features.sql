-- Outcomes: the features a key result is meant to be moved by, so that
-- the objective page shows what shipped against the key result's
-- check-ins.

CREATE TABLE key_result_features (
    key_result_id INTEGER NOT NULL REFERENCES key_results (id) ON DELETE CASCADE,
    feature_id    INTEGER NOT NULL REFERENCES features (id) ON DELETE CASCADE,
    PRIMARY KEY (key_result_id, feature_id)
);

CREATE INDEX key_result_features_feature ON key_result_features (feature_id);
