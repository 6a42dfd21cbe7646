-- Several SLOs per service. SLI counts, escalation state and notifications
-- belong to one SLO of a service. Until now every service had one SLO, the
-- one a policy written with slo_target and window describes; it is named
-- 'default' (docs/POLICY.md), and everything stored so far is its.

CREATE TABLE slos (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services(id),
    name       TEXT NOT NULL,
    UNIQUE (service_id, name)
);

-- Each service's existing SLO keeps its service's id, so that the counts
-- below move over unchanged.
INSERT INTO slos (id, service_id, name) SELECT id, id, 'default' FROM services;

CREATE TABLE sli_minute_new (
    slo_id INTEGER NOT NULL REFERENCES slos(id),
    t      INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, t)
) WITHOUT ROWID;
INSERT INTO sli_minute_new (slo_id, t, good, total) SELECT service_id, t, good, total FROM sli_minute;
DROP TABLE sli_minute;
ALTER TABLE sli_minute_new RENAME TO sli_minute;

CREATE TABLE sli_hour_new (
    slo_id INTEGER NOT NULL REFERENCES slos(id),
    t      INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, t)
) WITHOUT ROWID;
INSERT INTO sli_hour_new (slo_id, t, good, total) SELECT service_id, t, good, total FROM sli_hour;
DROP TABLE sli_hour;
ALTER TABLE sli_hour_new RENAME TO sli_hour;

CREATE TABLE sli_day_new (
    slo_id INTEGER NOT NULL REFERENCES slos(id),
    t      INTEGER NOT NULL,
    good   INTEGER NOT NULL,
    total  INTEGER NOT NULL,
    PRIMARY KEY (slo_id, t)
) WITHOUT ROWID;
INSERT INTO sli_day_new (slo_id, t, good, total) SELECT service_id, t, good, total FROM sli_day;
DROP TABLE sli_day;
ALTER TABLE sli_day_new RENAME TO sli_day;

-- One row per (service, SLO, escalation).
CREATE TABLE escalations_new (
    service    TEXT NOT NULL,
    slo        TEXT NOT NULL,
    name       TEXT NOT NULL,
    armed      INTEGER NOT NULL,
    fired_at   TEXT,
    remaining  REAL,
    PRIMARY KEY (service, slo, name)
);
INSERT INTO escalations_new (service, slo, name, armed, fired_at, remaining)
    SELECT service, 'default', name, armed, fired_at, remaining FROM escalations;
DROP TABLE escalations;
ALTER TABLE escalations_new RENAME TO escalations;

-- The SLO a notification is about; '' for those about no SLO (CCB, variants).
ALTER TABLE notifications ADD COLUMN slo TEXT NOT NULL DEFAULT '';
UPDATE notifications SET slo = 'default' WHERE kind = 'escalation';
