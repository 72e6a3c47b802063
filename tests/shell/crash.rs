//! Kill -9 in the middle of a scan, several times, then finish: the catalog
//! stays consistent and the next scan completes the work.

use std::path::Path;
use std::time::Duration;

use crate::harness::{kill_after, kill_repeatedly, stdout_of, Shell};
use crate::support::*;

#[test]
fn kill_during_scan_leaves_a_consistent_catalog() {
    let env = Shell::new();
    let photos = &env.photos;
    const N: u32 = 240;
    // A few distinct pictures, each copied byte-distinctly: every file is a
    // separate photo that must be fully decoded, but generation stays cheap.
    let bases: Vec<Vec<u8>> = (0..4)
        .map(|s| encode_jpeg(&synthetic_large(1600, 1200, s), 85))
        .collect();
    for i in 0..N {
        let sub = photos.join(format!("roll-{}", i % 6));
        let jpeg = with_comment(&bases[i as usize % bases.len()], &format!("copy {i}"));
        write(&sub.join(format!("img-{i:04}.jpg")), &jpeg);
    }
    let library = env.library.clone();
    let run = |args: &[&str]| env.run(args);
    env.ok(&["add", env.photos_arg()]);

    let (killed_mid_scan, _) = kill_repeatedly(
        || env.command(&["scan", "--threads", "2"]),
        5,
        Duration::from_millis(400),
    );
    assert!(killed_mid_scan > 0, "no kill landed while a scan ran");

    let out = run(&["scan", "--json"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let status: serde_json::Value =
        serde_json::from_slice(&run(&["status", "--json"]).stdout).unwrap();
    assert_eq!(status["photos"], N);
    assert_eq!(status["files"], N);
    assert_eq!(status["errors"], 0);
    // Nothing but embeddings left to do: every thumbnail was written.
    assert_eq!(status["pending"], status["pending_embeddings"]);

    let conn = rusqlite_like_check(&library.join("catalog.sqlite"));
    assert_eq!(conn, "ok");
    // Once more: nothing left to do.
    let again: serde_json::Value =
        serde_json::from_slice(&run(&["scan", "--json"]).stdout).unwrap();
    assert_eq!(again["new_photos"], 0);
    assert_eq!(again["unchanged"], N);
}

/// `PRAGMA integrity_check` through the engine's own catalog type.
fn rusqlite_like_check(path: &std::path::Path) -> String {
    shoebox_engine::catalog::Catalog::open(path)
        .unwrap()
        .integrity_check()
        .unwrap()
}

/// Issue 22, defect 10: once, under load, a kill -9 mid-scan and a rescan
/// ended with 69 of 70 photos. Many cycles on a fresh library each, killed
/// at a random moment of the scan: every photo must be there after one
/// more scan. `SHOEBOX_KILL_CYCLES` runs more (the closing note of issue 22
/// gives a long run's figures); CI runs a bounded 12.
#[test]
fn randomized_kill_mid_scan_never_loses_a_photo() {
    let env = Shell::new();
    let photos = &env.photos;
    let tmp = &env.tmp;
    const N: usize = 70;
    for i in 0..N {
        let jpeg = encode_jpeg(&synthetic(640, 480, 1000 + i as u32), 88);
        write(&photos.join(format!("d{}/p-{i:02}.jpg", i % 3)), &jpeg);
    }
    let cycles: usize = std::env::var("SHOEBOX_KILL_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(12);
    let run =
        |library: &Path, args: &[&str]| stdout_of(env.command_in(library, args).output().unwrap());
    let status = |library: &Path| -> serde_json::Value {
        serde_json::from_str(&run(library, &["status", "--json"])).unwrap()
    };
    let scan = |library: &Path| {
        run(library, &["scan", "--threads", "2"]);
    };
    let add = |library: &Path| {
        run(library, &["add", env.photos_arg()]);
    };

    // How long a whole scan takes here, to spread the kills over it.
    let first = tmp.path().join("lib-measure");
    add(&first);
    let started = std::time::Instant::now();
    scan(&first);
    let span = started.elapsed();

    let mut seed: u64 = 0x2545_F491_4F6C_DD1D;
    let mut mid_scan = 0;
    for cycle in 0..cycles {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let library = tmp.path().join(format!("lib-{cycle}"));
        add(&library);
        let mut scan_command = env.command_in(&library, &["scan", "--threads", "2"]);
        let delay = span.mul_f64(0.1 + 0.9 * (seed % 1000) as f64 / 1000.0);
        if kill_after(&mut scan_command, delay) {
            mid_scan += 1;
        }
        scan(&library);
        let s = status(&library);
        assert_eq!(
            (
                s["photos"].as_u64(),
                s["files"].as_u64(),
                s["errors"].as_u64()
            ),
            (Some(N as u64), Some(N as u64), Some(0)),
            "cycle {cycle}: {s}"
        );
        assert_eq!(rusqlite_like_check(&library.join("catalog.sqlite")), "ok");
        let _ = std::fs::remove_dir_all(&library);
    }
    eprintln!("{cycles} cycles, {mid_scan} killed mid-scan (span {span:?})");
}
