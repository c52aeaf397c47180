//! Numbered schema migrations, applied in order inside one write transaction.
//!
//! `PRAGMA user_version` holds the number of the last migration applied. A
//! migration is never edited once it has landed: change the schema by adding
//! the next one. A file newer than this binary is refused rather than guessed at.

use crate::error::PmError;
use anyhow::{Context as _, Result};
use rusqlite::{Connection, TransactionBehavior};
use std::path::Path;

/// Each entry upgrades the schema from version `index` to `index + 1`.
const MIGRATIONS: &[&str] = &[
    // 1: the append-only history of mutating commands.
    r#"
    CREATE TABLE history (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        started_at  INTEGER NOT NULL,          -- ms since the Unix epoch
        duration_ms INTEGER NOT NULL,
        command     TEXT    NOT NULL,          -- e.g. 'state prune'
        args        TEXT    NOT NULL,          -- JSON array, secrets redacted
        pid         INTEGER NOT NULL,
        result      TEXT    NOT NULL CHECK (result IN ('ok', 'error')),
        error_code  TEXT,
        changed     INTEGER                    -- 0/1, NULL when unknown
    );
    CREATE INDEX history_started_at ON history (started_at);
    CREATE INDEX history_command ON history (command);
    -- History is append-only: rows are inserted whole and only ever removed
    -- by `pm state prune`, never rewritten.
    CREATE TRIGGER history_append_only BEFORE UPDATE ON history
    BEGIN SELECT RAISE(ABORT, 'history rows are append-only'); END;
    "#,
    // 2: the image store. A row in `images` means the blob is complete,
    // verified and in place; `image_sources` maps where it came from.
    r#"
    CREATE TABLE images (
        digest     TEXT PRIMARY KEY,           -- 'sha256:<hex>'
        size       INTEGER NOT NULL,
        path       TEXT    NOT NULL,
        created_at INTEGER NOT NULL
    );
    CREATE TABLE image_sources (
        source     TEXT PRIMARY KEY,           -- s3://…, https://…, or an absolute path
        digest     TEXT NOT NULL REFERENCES images (digest) ON DELETE CASCADE,
        etag       TEXT,
        fetched_at INTEGER NOT NULL
    );
    CREATE INDEX image_sources_digest ON image_sources (digest);
    "#,
    // image_validations: the latest verdict of `pm image validate` on a
    // stored image, so `activate` can refuse what was not validated safe.
    r#"
    CREATE TABLE image_validations (
        digest         TEXT PRIMARY KEY REFERENCES images (digest) ON DELETE CASCADE,
        verdict        TEXT    NOT NULL CHECK (verdict IN ('safe', 'rejected')),
        rules_version  INTEGER NOT NULL,       -- validate::RULES_VERSION
        limits         TEXT    NOT NULL,       -- JSON [limits, policy] in force
        entries        INTEGER NOT NULL,
        unpacked_bytes INTEGER NOT NULL,
        violations     TEXT    NOT NULL,       -- JSON array of {rule, path, detail}
        report         TEXT    NOT NULL,       -- the whole report, JSON
        validated_at   INTEGER NOT NULL
    );
    "#,
    // pool/activate (issue 6): the thin pool (or dir root), one base volume
    // per image and backend, activations, and the intent journal that makes
    // every kernel change crash-safe (intent row first, result after).
    r#"
    CREATE TABLE pools (
        name           TEXT PRIMARY KEY,       -- dm name prefix, e.g. 'pm'
        data_dev       TEXT NOT NULL,          -- block device or loop-backed file
        metadata_dev   TEXT NOT NULL,
        loop_backed    INTEGER NOT NULL,       -- 1: the two paths are files pm created
        data_bytes     INTEGER NOT NULL,
        metadata_bytes INTEGER NOT NULL,
        block_sectors  INTEGER NOT NULL,
        low_water      INTEGER NOT NULL,       -- in data blocks
        next_thin_id   INTEGER NOT NULL,       -- ids only grow: never reused
        created_at     INTEGER NOT NULL
    );
    CREATE TABLE volumes (
        digest     TEXT NOT NULL,
        backend    TEXT NOT NULL CHECK (backend IN ('thin', 'dir')),
        thin_id    INTEGER,
        path       TEXT NOT NULL,              -- dm name or directory
        size       INTEGER NOT NULL,           -- bytes unpacked into it
        virtual_size INTEGER NOT NULL DEFAULT 0, -- thin: the device's size, kept for re-activation
        created_at INTEGER NOT NULL,
        PRIMARY KEY (digest, backend)
    );
    CREATE TABLE activations (
        id          TEXT PRIMARY KEY,
        name        TEXT NOT NULL UNIQUE,
        image_digest TEXT NOT NULL,            -- the image (fetch's `rm` checks it)
        backend     TEXT NOT NULL CHECK (backend IN ('thin', 'dir')),
        thin_id     INTEGER,
        path        TEXT NOT NULL,             -- dm name or directory
        created_at  INTEGER NOT NULL
    );
    CREATE TABLE intents (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        op          TEXT NOT NULL,             -- create_base, create_snapshot, remove_volume, ...
        backend     TEXT NOT NULL,
        thin_id     INTEGER,
        digest      TEXT,
        activation  TEXT,
        path        TEXT,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,
        outcome     TEXT                       -- done, rolled_back, finished_by_reconcile
    );
    CREATE INDEX intents_open ON intents (finished_at);
    "#,
    // image fetch: resumable downloads. A row in `downloads` is an
    // interrupted or running fetch; `download_parts` the parts already
    // written to its partial file. All of them are trusted within the same
    // boot_id; after a reboot only the `durable` ones, written before an
    // fsync of the partial file.
    r#"
    CREATE TABLE downloads (
        source       TEXT PRIMARY KEY,
        etag         TEXT,
        size         INTEGER NOT NULL,
        part_size    INTEGER NOT NULL,
        partial_path TEXT    NOT NULL,
        boot_id      TEXT,
        started_at   INTEGER NOT NULL,
        updated_at   INTEGER NOT NULL
    );
    CREATE TABLE download_parts (
        source TEXT    NOT NULL REFERENCES downloads (source) ON DELETE CASCADE,
        part    INTEGER NOT NULL,
        durable INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (source, part)
    ) WITHOUT ROWID;
    "#,
    // 6: the resumable step runner (`steps`): one session per run of a plan
    // (`provider onboard`) on a subject (a provider id), and one row per
    // step of it. A step's row says `started` before it acts and `done`
    // after, so a crash in between leaves `started`: checked again on resume.
    r#"
    CREATE TABLE step_sessions (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        plan        TEXT    NOT NULL,
        subject     TEXT    NOT NULL,
        status      TEXT    NOT NULL CHECK (status IN ('open', 'done', 'failed')),
        started_at  INTEGER NOT NULL,
        finished_at INTEGER
    );
    CREATE INDEX step_sessions_subject ON step_sessions (plan, subject, id);
    CREATE TABLE steps (
        session     INTEGER NOT NULL REFERENCES step_sessions (id) ON DELETE CASCADE,
        key         TEXT    NOT NULL,
        position    INTEGER NOT NULL,          -- the step's index in its plan
        status      TEXT    NOT NULL CHECK (status IN ('started', 'done', 'failed', 'skipped')),
        attempts    INTEGER NOT NULL DEFAULT 0, -- acts tried, over every run of the session
        started_at  INTEGER,
        finished_at INTEGER,
        duration_ms INTEGER,
        last_error  TEXT,                      -- pm's translated message, secrets redacted
        detail      TEXT,                      -- JSON the step returned
        PRIMARY KEY (session, key)
    ) WITHOUT ROWID;
    "#,
    // 7: pm net (issue 13). `net_node` is what pm last saw of the tailnet
    // node and what it applied to it (one row); `net_runs` and
    // `net_events` record every `net up|down|leave` and each state of its
    // state machine, the newest runs only (see state::net).
    r#"
    CREATE TABLE net_node (
        id                INTEGER PRIMARY KEY CHECK (id = 1),
        backend_state     TEXT,                -- BackendState last observed
        ips               TEXT NOT NULL DEFAULT '[]', -- JSON array of Tailscale IPs
        hostname          TEXT,
        dns_name          TEXT,
        node_id           TEXT,                -- Self.ID: `applied` is about this node
        applied           TEXT,                -- JSON: the settings pm last applied with success
        daemon_pid        INTEGER,             -- the tailscaled pm last started
        daemon_started_at INTEGER,
        last_up_at        INTEGER,             -- the last `net up` that ended Running
        last_up_attempts  INTEGER,             -- its logins with a key
        updated_at        INTEGER NOT NULL
    );
    CREATE TABLE net_runs (
        id          INTEGER PRIMARY KEY AUTOINCREMENT,
        command     TEXT    NOT NULL,          -- 'net up', 'net down', 'net leave'
        pid         INTEGER NOT NULL,
        started_at  INTEGER NOT NULL,
        finished_at INTEGER,                   -- NULL: still running, or pm died
        result      TEXT CHECK (result IN ('ok', 'error')),
        error_code  TEXT,
        changed     INTEGER,
        attempts    INTEGER NOT NULL DEFAULT 0 -- logins tried with a key
    );
    CREATE TABLE net_events (
        run    INTEGER NOT NULL REFERENCES net_runs (id) ON DELETE CASCADE,
        seq    INTEGER NOT NULL,
        at     INTEGER NOT NULL,
        state  TEXT    NOT NULL,               -- the state the machine entered
        detail TEXT,                           -- JSON, secrets redacted
        PRIMARY KEY (run, seq)
    ) WITHOUT ROWID;
    "#,
    // 8: the provider (issue 15): one row per host, made once by
    // `pm provider register`, and the Ray node `onboard` started for it.
    // `generation` counts onboardings: `leave` starts the next one, so the
    // next `onboard` is a new step session rather than a resumed old one.
    r#"
    CREATE TABLE providers (
        id          TEXT PRIMARY KEY,          -- generated once per host
        one_per_host INTEGER NOT NULL DEFAULT 1 UNIQUE CHECK (one_per_host = 1),
        username    TEXT NOT NULL,
        platform    TEXT NOT NULL,             -- JSON: what register detected
        status      TEXT NOT NULL CHECK (status IN ('active', 'inactive')),
        generation  INTEGER NOT NULL DEFAULT 1,
        created_at  INTEGER NOT NULL,
        updated_at  INTEGER NOT NULL
    );
    CREATE TABLE provider_nodes (
        provider        TEXT PRIMARY KEY REFERENCES providers (id) ON DELETE CASCADE,
        cluster_address TEXT NOT NULL,         -- HOST:PORT joined
        node_ip         TEXT NOT NULL,
        node_id         TEXT NOT NULL,         -- hex, as the GCS names it
        process_group   INTEGER NOT NULL,      -- the group (and session) of the node's processes
        raylet_pid      INTEGER NOT NULL,
        temp_dir        TEXT NOT NULL,
        joined_at       INTEGER NOT NULL,
        verified_at     INTEGER                -- ALIVE, and still ALIVE after the hold
    );
    "#,
];

/// The schema version this binary writes.
pub const LATEST: i64 = MIGRATIONS.len() as i64;

/// The schema version of an open database.
pub fn version(conn: &Connection) -> rusqlite::Result<i64> {
    conn.query_row("PRAGMA user_version", [], |r| r.get(0))
}

/// A file written by a newer pm is refused rather than guessed at.
pub fn refuse_newer(version: i64, path: &Path) -> Result<()> {
    if version > LATEST {
        return Err(PmError::StateTooNew {
            path: path.to_path_buf(),
            found: version,
            supported: LATEST,
        }
        .into());
    }
    Ok(())
}

pub fn migrate(conn: &mut Connection, path: &Path) -> Result<()> {
    let current = version(conn)?;
    refuse_newer(current, path)?;
    if current == LATEST {
        return Ok(());
    }
    // Re-read inside the write transaction: another process may have
    // migrated between the check above and taking the write lock.
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let current = version(&tx)?;
    refuse_newer(current, path)?;
    for (index, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let version = index as i64 + 1;
        tx.execute_batch(sql)
            .with_context(|| format!("applying state migration {version}"))?;
        tracing::info!(version, "state_migration_complete");
    }
    tx.pragma_update(None, "user_version", LATEST)?;
    tx.commit()?;
    Ok(())
}
