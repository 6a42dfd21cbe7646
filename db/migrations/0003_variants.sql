-- Variant budgets: projects and the repositories the server analyses itself,
-- every analysis with its figures, the violations tracked across analyses,
-- and compliance over time. Times are fixed-width TEXT (UTC), which sorts.

CREATE TABLE projects (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    owner_role TEXT NOT NULL DEFAULT '',    -- told of new violations; '' means "platform"
    created_at TEXT NOT NULL
);

-- Repositories the server may analyse (serve --repo NAME=PATH). The rows
-- mirror the running server's configuration and are replaced at start.
CREATE TABLE repositories (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    path       TEXT NOT NULL,
    updated_at TEXT NOT NULL
);

CREATE TABLE analyses (
    id              INTEGER PRIMARY KEY,
    project_id      INTEGER NOT NULL REFERENCES projects(id),
    commit_sha      TEXT NOT NULL,
    baseline        TEXT NOT NULL,          -- the branch or ref it was compared with
    baseline_commit TEXT NOT NULL,
    on_baseline     INTEGER NOT NULL,       -- the commit is on the baseline branch
    analysis_status TEXT NOT NULL,          -- pass, warn or blocked, from the figures
    status          TEXT NOT NULL,          -- the same, or excepted
    score           REAL NOT NULL,          -- compliance, percent
    within          INTEGER NOT NULL,
    pairs           INTEGER NOT NULL,
    policy_version  TEXT NOT NULL,
    source          TEXT NOT NULL,          -- ci (posted) or server (analysed here)
    requested_by    TEXT NOT NULL,
    document        TEXT NOT NULL,          -- the Analysis JSON (docs/API.md)
    created_at      TEXT NOT NULL
);
CREATE INDEX analyses_project ON analyses(project_id, on_baseline, created_at);
CREATE INDEX analyses_commit ON analyses(project_id, commit_sha);

-- One row per (analysis, dimension, metric): the history is read from here
-- without parsing documents.
CREATE TABLE analysis_figures (
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    on_baseline INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    dimension   TEXT NOT NULL,
    metric      TEXT NOT NULL,
    budget      TEXT NOT NULL,
    status      TEXT NOT NULL,
    delta       REAL NOT NULL,
    variant     TEXT NOT NULL,              -- the worst variant
    share       REAL NOT NULL,
    change_pp   REAL,
    soft_limit  REAL NOT NULL,
    hard_limit  REAL NOT NULL,
    trend_limit REAL,
    PRIMARY KEY (analysis_id, dimension, metric)
);
CREATE INDEX analysis_figures_history ON analysis_figures(project_id, on_baseline, dimension, created_at);

-- A (project, commit, dimension, variant, metric) that failed. A failure
-- already open on the baseline, or at the same commit, is the same
-- violation seen again rather than a new one.
CREATE TABLE violations (
    id                   INTEGER PRIMARY KEY,
    project_id           INTEGER NOT NULL REFERENCES projects(id),
    commit_sha           TEXT NOT NULL,
    on_baseline          INTEGER NOT NULL,
    dimension            TEXT NOT NULL,
    variant              TEXT NOT NULL,
    metric               TEXT NOT NULL,
    kind                 TEXT NOT NULL,     -- fail or trend_fail
    value                REAL NOT NULL,
    delta                REAL NOT NULL,
    limit_value          REAL NOT NULL,
    state                TEXT NOT NULL CHECK (state IN ('open', 'excepted', 'resolved')),
    opened_at            TEXT NOT NULL,
    opened_by_analysis   INTEGER NOT NULL REFERENCES analyses(id),
    last_analysis        INTEGER NOT NULL REFERENCES analyses(id),
    resolved_at          TEXT,
    resolved_by_analysis INTEGER REFERENCES analyses(id)
);
CREATE INDEX violations_key ON violations(project_id, dimension, variant, metric, state);
CREATE INDEX violations_state ON violations(state, project_id, id);

-- Compliance of every baseline analysis, kept over time.
CREATE TABLE compliance_scores (
    analysis_id INTEGER PRIMARY KEY REFERENCES analyses(id),
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    commit_sha  TEXT NOT NULL,
    score       REAL NOT NULL,
    within      INTEGER NOT NULL,
    pairs       INTEGER NOT NULL,
    at          TEXT NOT NULL
);
CREATE INDEX compliance_scores_project ON compliance_scores(project_id, at);

-- The CCB request a blocked commit opened: one per (project, commit).
CREATE TABLE analysis_ccb_requests (
    project_id  INTEGER NOT NULL REFERENCES projects(id),
    commit_sha  TEXT NOT NULL,
    analysis_id INTEGER NOT NULL REFERENCES analyses(id),
    request_id  INTEGER NOT NULL,
    url         TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (project_id, commit_sha)
);
