//! The benchmark's catalog: roots, photos and files rows, vectors.

use super::*;

pub(crate) struct Roots {
    pub(crate) pictures: (i64, PathBuf),
    pub(crate) phone: (i64, PathBuf),
}

pub(crate) fn register_roots(lib: &Library, dir: &Path) -> Roots {
    let add = |name: &str| {
        let path = dir.join(name);
        std::fs::create_dir_all(&path).unwrap();
        let root = lib.add_folder(&path).expect("add folder");
        (root.id, root.path)
    };
    Roots {
        pictures: add("Pictures"),
        phone: add("Phone"),
    }
}

/// Photos and their files, in one transaction, as a scan would leave them.
pub(crate) fn insert_photos(lib: &Library, roots: &Roots, n: usize) {
    let conn = lib.catalog().connection();
    // Setup only: a 256 MB page cache keeps the random hash-index inserts
    // in memory. The index load below uses a fresh, default connection.
    conn.pragma_update(None, "cache_size", -262_144).unwrap();
    let tx = conn.unchecked_transaction().unwrap();
    let now = "2025-06-01T12:00:00Z";
    tx.execute(
        "INSERT INTO scans (id, started_at, finished_at) VALUES (1, ?1, ?1)",
        [now],
    )
    .unwrap();
    {
        let mut photo = tx
            .prepare(
                "INSERT INTO photos (id, hash, width, height, format, taken_at, taken_at_source,
                     camera_make, camera_model, lens, gps_lat, gps_lon, orientation, phash,
                     pixel_hash, thumb_ready, added_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 1, ?16)",
            )
            .unwrap();
        let mut file = tx
            .prepare(
                "INSERT INTO files (root_id, photo_id, path, display_path, size, mtime_ns, status, scan_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'ok', 1)",
            )
            .unwrap();
        let mut add_file = |root: i64, id: i64, path: &Path, size: i64, mtime_ns: i64| {
            file.execute(params![
                root,
                id,
                paths::to_bytes(path),
                paths::display(path),
                size,
                mtime_ns
            ])
            .unwrap();
        };
        for i in 0..n {
            let id = i as i64 + 1;
            let mut rng = Rng::new(SEED ^ 0x000F_AC75, i as u64);
            let ts = FIRST_TS + (rng.unit() * (END_TS - FIRST_TS) as f64) as i64;
            let local = chrono::DateTime::from_timestamp(ts, 0).unwrap().naive_utc();
            let taken = format!(
                "{}{}",
                local.format("%Y-%m-%dT%H:%M:%S"),
                OFFSETS[rng.below(OFFSETS.len())]
            );
            let source = if rng.chance(0.9) {
                "exif:DateTimeOriginal"
            } else {
                "file:modified"
            };
            let camera = rng.chance(0.92).then(|| CAMERAS[rng.below(CAMERAS.len())]);
            let gps = rng
                .chance(0.35)
                .then(|| (rng.unit() * 130.0 - 60.0, rng.unit() * 360.0 - 180.0));
            let (format, ext) = match rng.below(100) {
                0..=89 => ("jpeg", "jpg"),
                90..=95 => ("png", "png"),
                _ => ("webp", "webp"),
            };
            let (w, h) = [(4000, 3000), (3000, 4000), (4032, 3024), (6000, 4000)][rng.below(4)];
            let hash = blake3::hash(&id.to_le_bytes());
            let pixel_hash = blake3::hash(hash.as_bytes());
            let phash = blake3::hash(pixel_hash.as_bytes());
            photo
                .execute(params![
                    id,
                    hash.as_bytes().as_slice(),
                    w,
                    h,
                    format,
                    taken,
                    source,
                    camera.map(|c| c.0),
                    camera.map(|c| c.1),
                    camera.and_then(|c| c.2),
                    gps.map(|g| g.0),
                    gps.map(|g| g.1),
                    1,
                    phash.as_bytes().as_slice(),
                    pixel_hash.as_bytes().as_slice(),
                    now,
                ])
                .unwrap();
            let size = 1_000_000 + rng.below(7_000_000) as i64;
            let mtime_ns = ts * 1_000_000_000;
            let year = &taken[..4];
            if rng.chance(0.85) {
                let event = EVENTS[rng.below(EVENTS.len())];
                let path = roots
                    .pictures
                    .1
                    .join(format!("{year}/{event}/IMG_{id:07}.{ext}"));
                add_file(roots.pictures.0, id, &path, size, mtime_ns);
            } else {
                let path = roots.phone.1.join(format!("DCIM/Camera/PXL_{id:07}.{ext}"));
                add_file(roots.phone.0, id, &path, size, mtime_ns);
            }
            if rng.chance(0.02) {
                let path = roots
                    .phone
                    .1
                    .join(format!("Backup/{year}/IMG_{id:07}.{ext}"));
                add_file(roots.phone.0, id, &path, size, mtime_ns);
            }
        }
    }
    tx.commit().unwrap();
    for root in [roots.pictures.0, roots.phone.0] {
        lib.catalog().mark_root_scanned(root).unwrap();
    }
}

/// The vectors through the catalog's own write path, as the embedding job
/// stores them (one transaction per batch).
pub(crate) fn insert_vectors(lib: &Library, model_id: i64, data: &[f32]) {
    for (b, chunk) in data.chunks(EMBED_BATCH * DIM).enumerate() {
        let rows: Vec<(i64, EmbedOutcome)> = chunk
            .chunks_exact(DIM)
            .enumerate()
            .map(|(j, v)| {
                (
                    (b * EMBED_BATCH + j) as i64 + 1,
                    EmbedOutcome::Vector(v.to_vec()),
                )
            })
            .collect();
        lib.catalog().store_embeddings(model_id, &rows).unwrap();
    }
}

pub(crate) fn file_len(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}
