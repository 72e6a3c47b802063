//! Timeline latency on a large synthetic catalog: the month counts and
//! pages at the start, middle and end, as the app's virtualised grid asks
//! for them. Rows are inserted directly (no images), 2 files per 100 photos
//! are copies.
//!
//! `cargo run --release -p shoebox-engine --example timeline_bench [N]`

use std::time::Instant;

use shoebox_engine::Library;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let tmp = tempfile::tempdir().unwrap();
    let photos = tmp.path().join("photos");
    std::fs::create_dir_all(&photos).unwrap();
    let library = Library::open(&tmp.path().join("library")).unwrap();
    let root = library.add_folder(&photos).unwrap();

    let t = Instant::now();
    {
        let conn = library.catalog().connection();
        let tx = conn.unchecked_transaction().unwrap();
        {
            let mut photo = tx
                .prepare(
                    "INSERT INTO photos (id, hash, width, height, format, taken_at, added_at, thumb_ready)
                     VALUES (?1, ?2, 4032, 3024, 'jpeg', ?3, '2024-01-01T00:00:00Z', 1)",
                )
                .unwrap();
            let mut file = tx
                .prepare(
                    "INSERT INTO files (root_id, photo_id, path, display_path, size, mtime_ns, status)
                     VALUES (?1, ?2, ?3, ?4, 3000000, 0, 'ok')",
                )
                .unwrap();
            for i in 0..n {
                let id = i as i64 + 1;
                let mut hash = [0u8; 32];
                hash[..8].copy_from_slice(&(id as u64).to_le_bytes());
                // Spread over 20 years, some undated.
                let taken = (i % 50 != 0).then(|| {
                    let day = (i * 7919) % (20 * 365);
                    let date = chrono::NaiveDate::from_ymd_opt(2004, 1, 1).unwrap()
                        + chrono::Days::new(day as u64);
                    format!("{date}T12:00:00+01:00")
                });
                photo.execute(rusqlite_params(id, &hash, taken)).unwrap();
                let copies = if i % 50 == 1 { 2 } else { 1 };
                for c in 0..copies {
                    let path = format!("{}/{id}-{c}.jpg", photos.display());
                    file.execute((root.id, id, path.as_bytes(), &path)).unwrap();
                }
            }
        }
        tx.commit().unwrap();
    }
    println!("inserted {n} photos in {:.1} s", t.elapsed().as_secs_f64());

    let time = |label: &str, f: &dyn Fn()| {
        f(); // warm
        let runs = 5;
        let t = Instant::now();
        for _ in 0..runs {
            f();
        }
        println!(
            "{label:<40} {:>8.1} ms",
            t.elapsed().as_secs_f64() * 1000.0 / runs as f64
        );
    };
    let t = Instant::now();
    library.timeline(0, 200, true).unwrap();
    println!(
        "{:<40} {:>8.1} ms",
        "first call (loads the order)",
        t.elapsed().as_secs_f64() * 1000.0
    );
    time("cold load in a fresh Library", &|| {
        let fresh = Library::open(library.dir()).unwrap();
        fresh.timeline(0, 200, true).unwrap();
    });
    time("timeline months + first page (200)", &|| {
        let t = library.timeline(0, 200, true).unwrap();
        assert_eq!(t.total as usize, n);
    });
    time("page of 200 at the middle", &|| {
        library.timeline(n / 2, 200, false).unwrap();
    });
    time("page of 200 at the end", &|| {
        library.timeline(n.saturating_sub(200), 200, false).unwrap();
    });
    time("after one tag edit: months + a page", &|| {
        library.add_tag(n as i64 / 3, "beach").unwrap();
        library.timeline(n / 3, 200, true).unwrap();
    });
    time("tag tree (581 concepts)", &|| {
        library.tag_tree().unwrap();
    });
}

fn rusqlite_params(
    id: i64,
    hash: &[u8; 32],
    taken: Option<String>,
) -> (i64, Vec<u8>, Option<String>) {
    (id, hash.to_vec(), taken)
}
