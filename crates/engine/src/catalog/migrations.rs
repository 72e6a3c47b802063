//! Versioned schema. Each entry upgrades the catalog by one version; the
//! version lives in `PRAGMA user_version`. Never edit a released entry: add a
//! new one, and add it to the upgrade tests.

pub const MIGRATIONS: &[&str] = &[
    // v1: roots, photos (identity = content hash) and files (locations).
    r#"
    CREATE TABLE roots (
        id            INTEGER PRIMARY KEY,
        path          BLOB NOT NULL UNIQUE,
        display_path  TEXT NOT NULL,
        added_at      TEXT NOT NULL,
        online        INTEGER NOT NULL DEFAULT 1,
        last_scan_at  TEXT
    );
    CREATE TABLE photos (
        id            INTEGER PRIMARY KEY,
        hash          BLOB NOT NULL UNIQUE,
        width         INTEGER NOT NULL,
        height        INTEGER NOT NULL,
        format        TEXT NOT NULL,
        taken_at      TEXT,
        camera_make   TEXT,
        camera_model  TEXT,
        lens          TEXT,
        gps_lat       REAL,
        gps_lon       REAL,
        orientation   INTEGER NOT NULL DEFAULT 1,
        phash         BLOB,
        added_at      TEXT NOT NULL
    );
    CREATE TABLE files (
        id            INTEGER PRIMARY KEY,
        root_id       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        photo_id      INTEGER REFERENCES photos(id) ON DELETE SET NULL,
        path          BLOB NOT NULL UNIQUE,
        display_path  TEXT NOT NULL,
        size          INTEGER NOT NULL,
        mtime_ns      INTEGER NOT NULL,
        status        TEXT NOT NULL CHECK (status IN ('ok', 'error', 'unsupported')),
        last_error    TEXT
    );
    CREATE INDEX files_photo ON files(photo_id);
    CREATE INDEX files_root ON files(root_id);
    "#,
    // v2: scan bookkeeping (so an interrupted scan never prunes), folder-level
    // errors, the decoded-pixel hash for "same pixels, other metadata", the
    // thumbnail state and the taken-at source.
    r#"
    ALTER TABLE files ADD COLUMN scan_id INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE photos ADD COLUMN pixel_hash BLOB;
    ALTER TABLE photos ADD COLUMN thumb_ready INTEGER NOT NULL DEFAULT 0;
    ALTER TABLE photos ADD COLUMN taken_at_source TEXT;
    CREATE TABLE scans (
        id           INTEGER PRIMARY KEY,
        started_at   TEXT NOT NULL,
        finished_at  TEXT
    );
    CREATE TABLE walk_errors (
        id            INTEGER PRIMARY KEY,
        root_id       INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        path          BLOB NOT NULL UNIQUE,
        display_path  TEXT NOT NULL,
        reason        TEXT NOT NULL,
        scan_id       INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX photos_pixel_hash ON photos(pixel_hash);
    CREATE INDEX photos_taken_at ON photos(taken_at);
    "#,
    // v3: embeddings per (photo, model), per-photo embedding failures, and
    // key/value settings (the active model).
    r#"
    CREATE TABLE models (
        id          INTEGER PRIMARY KEY,
        key         TEXT NOT NULL UNIQUE,
        spec        TEXT NOT NULL,
        dim         INTEGER NOT NULL,
        added_at    TEXT NOT NULL
    );
    CREATE TABLE embeddings (
        photo_id    INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        vector      BLOB NOT NULL,
        PRIMARY KEY (photo_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX embeddings_model ON embeddings(model_id);
    CREATE TABLE embed_errors (
        photo_id    INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id    INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        reason      TEXT NOT NULL,
        at          TEXT NOT NULL,
        PRIMARY KEY (photo_id, model_id)
    ) WITHOUT ROWID;
    CREATE TABLE settings (
        key         TEXT PRIMARY KEY,
        value       TEXT NOT NULL
    );
    "#,
    // v4: tags, and a change log that long-running readers (the search
    // index) follow to stay in sync with any writer, in this process or
    // another, without reloading. A NULL photo_id means "many photos
    // changed" (a folder went offline or came back).
    r#"
    CREATE TABLE photo_tags (
        photo_id    INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag         TEXT NOT NULL,
        source      TEXT NOT NULL DEFAULT 'user',
        score       REAL,
        PRIMARY KEY (photo_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX photo_tags_tag ON photo_tags(tag);
    CREATE TABLE changes (
        seq         INTEGER PRIMARY KEY AUTOINCREMENT,
        photo_id    INTEGER
    );
    CREATE TRIGGER changes_embedding_insert AFTER INSERT ON embeddings
        BEGIN INSERT INTO changes (photo_id) VALUES (NEW.photo_id); END;
    CREATE TRIGGER changes_embedding_update AFTER UPDATE ON embeddings
        BEGIN INSERT INTO changes (photo_id) VALUES (NEW.photo_id); END;
    CREATE TRIGGER changes_embedding_delete AFTER DELETE ON embeddings
        BEGIN INSERT INTO changes (photo_id) VALUES (OLD.photo_id); END;
    CREATE TRIGGER changes_photo_update AFTER UPDATE OF
        taken_at, camera_make, camera_model, gps_lat, gps_lon, format ON photos
        BEGIN INSERT INTO changes (photo_id) VALUES (NEW.id); END;
    CREATE TRIGGER changes_photo_delete AFTER DELETE ON photos
        BEGIN INSERT INTO changes (photo_id) VALUES (OLD.id); END;
    CREATE TRIGGER changes_file_insert AFTER INSERT ON files WHEN NEW.photo_id IS NOT NULL
        BEGIN INSERT INTO changes (photo_id) VALUES (NEW.photo_id); END;
    CREATE TRIGGER changes_file_update AFTER UPDATE OF photo_id, status, path, root_id ON files
        WHEN OLD.photo_id IS NOT NEW.photo_id OR OLD.status IS NOT NEW.status
          OR OLD.path IS NOT NEW.path OR OLD.root_id IS NOT NEW.root_id
        BEGIN
            INSERT INTO changes (photo_id) SELECT OLD.photo_id WHERE OLD.photo_id IS NOT NULL;
            INSERT INTO changes (photo_id) SELECT NEW.photo_id
                WHERE NEW.photo_id IS NOT NULL AND NEW.photo_id IS NOT OLD.photo_id;
        END;
    CREATE TRIGGER changes_file_delete AFTER DELETE ON files WHEN OLD.photo_id IS NOT NULL
        BEGIN INSERT INTO changes (photo_id) VALUES (OLD.photo_id); END;
    CREATE TRIGGER changes_root_online AFTER UPDATE OF online ON roots
        WHEN OLD.online IS NOT NEW.online
        BEGIN INSERT INTO changes (photo_id) VALUES (NULL); END;
    CREATE TRIGGER changes_tag_insert AFTER INSERT ON photo_tags
        BEGIN INSERT INTO changes (photo_id) VALUES (NEW.photo_id); END;
    CREATE TRIGGER changes_tag_delete AFTER DELETE ON photo_tags
        BEGIN INSERT INTO changes (photo_id) VALUES (OLD.photo_id); END;
    "#,
    // v5: auto-tagging. Tags users created (custom concepts and plain
    // keywords), per-photo rejections (a removed tag is a negative example and
    // is never re-added), cached text prototypes per (model, concept), what
    // the last re-tag decided each concept with, and which photos it has
    // scored. photo_tags keeps its key (photo_id, tag) and holds only tags
    // that are on; its source is 'auto', 'user' or 'imported'.
    r#"
    CREATE TABLE tag_defs (
        tag          TEXT PRIMARY KEY,
        name         TEXT NOT NULL,
        kind         TEXT NOT NULL CHECK (kind IN ('custom', 'keyword')),
        description  TEXT,
        parent       TEXT,
        created_at   TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE TABLE tag_rejections (
        photo_id     INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        tag          TEXT NOT NULL,
        at           TEXT NOT NULL,
        PRIMARY KEY (photo_id, tag)
    ) WITHOUT ROWID;
    CREATE INDEX tag_rejections_tag ON tag_rejections(tag);
    CREATE TABLE tag_prototypes (
        model_id     INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        tag          TEXT NOT NULL,
        signature    BLOB NOT NULL,
        vector       BLOB NOT NULL,
        PRIMARY KEY (model_id, tag)
    ) WITHOUT ROWID;
    CREATE TABLE tag_concept_state (
        model_id     INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        tag          TEXT NOT NULL,
        signature    BLOB NOT NULL,
        median       REAL NOT NULL,
        spread       REAL NOT NULL,
        PRIMARY KEY (model_id, tag)
    ) WITHOUT ROWID;
    CREATE TABLE tag_scored (
        photo_id     INTEGER NOT NULL REFERENCES photos(id) ON DELETE CASCADE,
        model_id     INTEGER NOT NULL REFERENCES models(id) ON DELETE CASCADE,
        PRIMARY KEY (photo_id, model_id)
    ) WITHOUT ROWID;
    CREATE INDEX tag_scored_model ON tag_scored(model_id);
    CREATE TRIGGER tag_scored_embedding_insert AFTER INSERT ON embeddings
        BEGIN DELETE FROM tag_scored WHERE photo_id = NEW.photo_id AND model_id = NEW.model_id; END;
    CREATE TRIGGER tag_scored_embedding_update AFTER UPDATE ON embeddings
        BEGIN DELETE FROM tag_scored WHERE photo_id = NEW.photo_id AND model_id = NEW.model_id; END;
    CREATE INDEX photo_tags_source ON photo_tags(source);
    "#,
    // v6 (duplicates): a sharpness figure per photo (relative variance of
    // the Laplacian, for "which copy to keep"), the perceptual hashes of
    // sub-regions (so crops find their originals),
    // remembered "not duplicates" / "keep all" decisions keyed by photo
    // content hash (so they survive rescans, moves and re-embedding), and
    // the log of resolutions (what went to the OS trash, for history and
    // undo).
    r#"
    ALTER TABLE photos ADD COLUMN sharpness REAL;
    ALTER TABLE photos ADD COLUMN crop_hashes BLOB;
    CREATE TABLE dupe_decisions (
        id          INTEGER PRIMARY KEY,
        tier        TEXT NOT NULL,
        kind        TEXT NOT NULL CHECK (kind IN ('not_duplicates', 'keep_all')),
        group_id    TEXT NOT NULL,
        created_at  TEXT NOT NULL
    );
    CREATE TABLE dupe_decision_members (
        decision_id INTEGER NOT NULL REFERENCES dupe_decisions(id) ON DELETE CASCADE,
        photo_hash  BLOB NOT NULL,
        PRIMARY KEY (decision_id, photo_hash)
    ) WITHOUT ROWID;
    CREATE INDEX dupe_decision_members_hash ON dupe_decision_members(photo_hash);
    CREATE TABLE dupe_actions (
        id          INTEGER PRIMARY KEY,
        group_id    TEXT NOT NULL,
        tier        TEXT NOT NULL,
        kept_hash   BLOB NOT NULL,
        kept_path   TEXT NOT NULL,
        reason      TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        undone_at   TEXT
    );
    CREATE TABLE dupe_action_files (
        action_id    INTEGER NOT NULL REFERENCES dupe_actions(id) ON DELETE CASCADE,
        path         BLOB NOT NULL,
        display_path TEXT NOT NULL,
        photo_hash   BLOB NOT NULL,
        size         INTEGER NOT NULL,
        trashed_at   TEXT NOT NULL,
        PRIMARY KEY (action_id, path)
    ) WITHOUT ROWID;
    "#,
    // v7: the live library. One persistent job queue drives all background
    // work (ingest, embeddings, tags; duplicate grouping plugs in as another
    // kind). A job is a unit of "make the catalog match X", so running it
    // twice is harmless: a kill -9 at any point loses nothing, and `running`
    // rows found at start are simply queued again. (kind, key) is unique, so
    // asking twice for the same work coalesces. job_paths holds paths the
    // watcher saw change (files, folders, sidecars), drained by the `ingest`
    // job; watch_state says how each folder is followed (native events or
    // polling, and why), for `shoebox status` in another process.
    r#"
    CREATE TABLE jobs (
        id           INTEGER PRIMARY KEY,
        kind         TEXT NOT NULL,
        key          TEXT NOT NULL DEFAULT '',
        priority     INTEGER NOT NULL DEFAULT 0,
        state        TEXT NOT NULL DEFAULT 'queued' CHECK (state IN ('queued', 'running', 'failed')),
        rerun        INTEGER NOT NULL DEFAULT 0,
        attempts     INTEGER NOT NULL DEFAULT 0,
        last_error   TEXT,
        not_before   INTEGER NOT NULL DEFAULT 0,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL,
        UNIQUE (kind, key)
    );
    CREATE INDEX jobs_next ON jobs(state, priority DESC, id);
    CREATE TABLE job_paths (
        path         BLOB PRIMARY KEY,
        root_id      INTEGER NOT NULL REFERENCES roots(id) ON DELETE CASCADE,
        priority     INTEGER NOT NULL DEFAULT 0,
        queued_at    TEXT NOT NULL
    ) WITHOUT ROWID;
    CREATE INDEX job_paths_next ON job_paths(priority DESC);
    CREATE TABLE watch_state (
        root_id      INTEGER PRIMARY KEY REFERENCES roots(id) ON DELETE CASCADE,
        mode         TEXT NOT NULL CHECK (mode IN ('native', 'polling', 'offline')),
        reason       TEXT,
        updated_at   TEXT NOT NULL
    );
    "#,
    // v8: whether a photo has enough content to be matched as a duplicate
    // by hashes or crops: NULL not checked yet (the duplicates job checks
    // photos catalogued before v8), '' enough, else the reason in words
    // (tiny placeholder, blank, mostly one colour, partly decoded).
    //
    // Also: resolving duplicates writes its intent first. An action starts
    // `pending` with one `intent` row per file to move; each file becomes
    // `trashed` right after its move, and the action `done` once the
    // metadata is merged. A crash in between is reconciled at the next
    // start by looking in the trash (dupes::resolve::reconcile), once the
    // process that wrote it (owner_pid) is gone.
    r#"
    ALTER TABLE photos ADD COLUMN content TEXT;
    ALTER TABLE dupe_actions ADD COLUMN state TEXT NOT NULL DEFAULT 'done';
    ALTER TABLE dupe_actions ADD COLUMN kept_photo INTEGER;
    ALTER TABLE dupe_actions ADD COLUMN owner_pid INTEGER;
    ALTER TABLE dupe_action_files ADD COLUMN state TEXT NOT NULL DEFAULT 'trashed';
    "#,
    // v9: what each change-log row is about, so a process that did not
    // make a change can tell its views (the app hears of `shoebox tag add`
    // run in a terminal): 'tags' for photo tags, 'vectors' for embeddings
    // (nothing a view shows), NULL for files, metadata and folders.
    r#"
    ALTER TABLE changes ADD COLUMN what TEXT;
    DROP TRIGGER changes_embedding_insert;
    DROP TRIGGER changes_embedding_update;
    DROP TRIGGER changes_embedding_delete;
    DROP TRIGGER changes_tag_insert;
    DROP TRIGGER changes_tag_delete;
    CREATE TRIGGER changes_embedding_insert AFTER INSERT ON embeddings
        BEGIN INSERT INTO changes (photo_id, what) VALUES (NEW.photo_id, 'vectors'); END;
    CREATE TRIGGER changes_embedding_update AFTER UPDATE ON embeddings
        BEGIN INSERT INTO changes (photo_id, what) VALUES (NEW.photo_id, 'vectors'); END;
    CREATE TRIGGER changes_embedding_delete AFTER DELETE ON embeddings
        BEGIN INSERT INTO changes (photo_id, what) VALUES (OLD.photo_id, 'vectors'); END;
    CREATE TRIGGER changes_tag_insert AFTER INSERT ON photo_tags
        BEGIN INSERT INTO changes (photo_id, what) VALUES (NEW.photo_id, 'tags'); END;
    CREATE TRIGGER changes_tag_delete AFTER DELETE ON photo_tags
        BEGIN INSERT INTO changes (photo_id, what) VALUES (OLD.photo_id, 'tags'); END;
    "#,
    // v10: which pixels the thumbnail and the model input were made from:
    // 'image' (the file's own), 'embedded preview' (a RAW's JPEG or JPEG XL
    // preview), 'embedded thumbnail' (a HEIF thumbnail item). NULL for
    // photos catalogued before.
    r#"
    ALTER TABLE photos ADD COLUMN decoded_from TEXT;
    "#,
    // v11: Live Photos. A still's content identifier (Apple's maker note),
    // and the movie paired with a still's file: same name, same identifier.
    // The movie is no item of its own; it follows its still's file.
    r#"
    ALTER TABLE photos ADD COLUMN content_id TEXT;
    CREATE TABLE live_videos (
        file_id       INTEGER PRIMARY KEY REFERENCES files(id) ON DELETE CASCADE,
        path          BLOB NOT NULL UNIQUE,
        display_path  TEXT NOT NULL,
        size          INTEGER NOT NULL,
        mtime_ns      INTEGER NOT NULL
    );
    "#,
];

pub const LATEST_VERSION: i64 = MIGRATIONS.len() as i64;
