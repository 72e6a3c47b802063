//! Black-box tests of the `shoebox` binary: real processes, real files, real
//! SQLite, and the JSON contract that scripts rely on.

use std::path::Path;
use std::process::{Command, Output};

use crate::harness::{shoebox_bin, Shell};
use crate::support::*;

type Env = Shell;

#[test]
fn a_user_session_end_to_end() {
    let env = Env::new();
    for src in cc0_images() {
        std::fs::copy(&src, env.photos.join(src.file_name().unwrap())).unwrap();
    }
    let spec = ExifSpec {
        date: Some("2021:12:24 19:05:00"),
        offset: Some("-05:00"),
        make: Some("Canon"),
        model: Some("EOS R6"),
        lens: Some("RF24-105mm F4 L IS USM"),
        gps: Some((40.7128, -74.006)),
        orientation: Some(6),
    };
    write(
        &env.photos.join("xmas.jpg"),
        &jpeg_with_exif(&synthetic(600, 400, 4), &spec),
    );
    write(&env.photos.join("broken.jpg"), b"not a jpeg");

    let added = env.json(&["add", env.photos_arg()]);
    assert_eq!(added["path"], env.photos_arg());
    assert_eq!(added["added"], true);
    // Added twice: it is there, and nothing claims that indexing starts.
    assert_eq!(env.json(&["add", env.photos_arg()])["added"], false);
    let again = env.ok(&["add", env.photos_arg()]);
    assert!(again.contains("is already in the library"), "{again}");
    let human = env.ok(&["scan"]);
    assert!(human.contains("11 new photos"), "{human}");

    let status = env.json(&["status"]);
    for key in ["photos", "files", "errors", "offline", "pending"] {
        assert!(
            status[key].is_i64(),
            "status.{key} is not an integer: {status}"
        );
    }
    assert_eq!(status["photos"], 11);
    assert_eq!(status["files"], 11);
    assert_eq!(status["errors"], 1);
    assert_eq!(status["offline"], 0);
    // Thumbnails are made during the scan; every photo still waits for its
    // embedding.
    assert_eq!(status["pending"], 11);
    assert_eq!(status["pending_embeddings"], 11);

    let errors = env.json(&["errors"]);
    let list = errors.as_array().unwrap();
    assert_eq!(list.len(), 1);
    assert!(list[0]["path"].as_str().unwrap().ends_with("broken.jpg"));
    assert!(list[0]["reason"].as_str().unwrap().contains("not an image"));

    let xmas = env.photos.join("xmas.jpg");
    let info = env.json(&["info", xmas.to_str().unwrap()]);
    assert_eq!(info["paths"][0], xmas.to_str().unwrap());
    assert_eq!(info["hash"].as_str().unwrap().len(), 64);
    assert_eq!(
        (info["width"].as_i64(), info["height"].as_i64()),
        (Some(400), Some(600))
    );
    assert_eq!(info["format"], "jpeg");
    assert_eq!(info["taken_at"], "2021-12-24T19:05:00-05:00");
    assert_eq!(info["camera_make"], "Canon");
    assert_eq!(info["camera_model"], "EOS R6");
    assert_eq!(info["lens"], "RF24-105mm F4 L IS USM");
    assert!((info["gps"]["lat"].as_f64().unwrap() - 40.7128).abs() < 1e-4);
    assert!((info["gps"]["lon"].as_f64().unwrap() + 74.006).abs() < 1e-4);
    assert_eq!(info["orientation"], 6);

    // The same photo by catalog id.
    let id = info["id"].as_i64().unwrap().to_string();
    assert_eq!(env.json(&["info", &id])["hash"], info["hash"]);
    // A photo without EXIF has nulls, not missing keys, and is dated by its
    // file's modification time.
    let coins = env.json(&["info", env.photos.join("coins.png").to_str().unwrap()]);
    assert!(coins["gps"].is_null() && coins["camera_make"].is_null());
    assert_eq!(coins["taken_at_source"], "file:modified");
    let modified: std::time::SystemTime = std::fs::metadata(env.photos.join("coins.png"))
        .unwrap()
        .modified()
        .unwrap();
    let taken = chrono::DateTime::parse_from_rfc3339(coins["taken_at"].as_str().unwrap()).unwrap();
    let modified = chrono::DateTime::<chrono::Utc>::from(modified);
    assert!((taken.timestamp() - modified.timestamp()).abs() <= 1);

    // Rescanning is a no-op.
    let again = env.json(&["scan"]);
    assert_eq!(
        (again["new_photos"].as_i64(), again["unchanged"].as_i64()),
        (Some(0), Some(12))
    );

    let removed = env.json(&["remove", env.photos_arg()]);
    assert_eq!(removed["path"], env.photos_arg());
    assert!(xmas.is_file(), "remove must never touch files");
    assert_eq!(env.json(&["status"])["files"], 0);
}

#[test]
fn clear_errors_for_mistakes() {
    let env = Env::new();
    let missing = env.tmp.path().join("nope");
    let out = env.run(&["add", missing.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot open"));
    let out = env.run(&["info", "12345"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("no photo matches"));
    let out = env.run(&["remove", env.photos_arg()]);
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a library folder"));
}

#[test]
fn library_flag_overrides_the_environment() {
    let env = Env::new();
    let other = env.tmp.path().join("other-library");
    env.ok(&[
        "--library",
        other.to_str().unwrap(),
        "add",
        env.photos_arg(),
    ]);
    assert!(other.join("catalog.sqlite").is_file());
    assert!(!env.library.join("catalog.sqlite").exists() || env.json(&["status"])["folders"] == 0);
}

/// Runs the CLI as an unprivileged user so that a chmod 000 folder really
/// is unreadable (root reads everything).
#[cfg(unix)]
#[test]
fn an_unreadable_folder_is_reported_and_its_files_kept() {
    use std::os::unix::fs::PermissionsExt;
    let env = Env::new();
    let open_up = |p: &Path, mode| {
        std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap()
    };
    open_up(env.tmp.path(), 0o777);
    open_up(&env.photos, 0o777);
    let locked = env.photos.join("locked");
    write(
        &locked.join("secret.jpg"),
        &encode_jpeg(&synthetic(100, 100, 1), 90),
    );
    write(
        &env.photos.join("open.jpg"),
        &encode_jpeg(&synthetic(100, 100, 2), 90),
    );
    open_up(&locked, 0o777);
    open_up(&locked.join("secret.jpg"), 0o644);
    open_up(&env.photos.join("open.jpg"), 0o644);

    let as_user = |args: &[&str]| -> Output {
        let mut cmd = if is_root() {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(shoebox_bin());
            c
        } else {
            Command::new(shoebox_bin())
        };
        cmd.env("SHOEBOX_LIBRARY", &env.library)
            .args(args)
            .output()
            .unwrap()
    };
    if is_root() && Command::new("setpriv").arg("--version").output().is_err() {
        eprintln!("skipped: running as root without setpriv, cannot create an unreadable folder");
        return;
    }
    assert!(as_user(&["add", env.photos_arg()]).status.success());
    assert!(as_user(&["scan"]).status.success());
    assert_eq!(env.json(&["status"])["photos"], 2);

    open_up(&locked, 0o000);
    let out = as_user(&["scan", "--json"]);
    open_up(&locked, 0o777);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let errors = env.json(&["errors"]);
    let entry = errors
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["path"].as_str().unwrap().ends_with("locked"))
        .cloned();
    let entry = entry.unwrap_or_else(|| panic!("no error for the locked folder: {errors}"));
    assert!(
        entry["reason"]
            .as_str()
            .unwrap()
            .contains("permission denied"),
        "{entry}"
    );
    // The locked folder's photo is not treated as deleted.
    assert_eq!(env.json(&["status"])["photos"], 2);
}

/// Issue 22: EXIF text went to the terminal raw, so a photo could retitle
/// the terminal or clear the screen. Control characters are escaped in text
/// output and kept exact in JSON.
#[test]
fn control_characters_from_files_are_escaped_in_text_output() {
    let env = Env::new();
    let photo = env.photos.join("evil.jpg");
    write(
        &photo,
        &jpeg_with_exif(
            &synthetic(64, 48, 3),
            &ExifSpec {
                make: Some("\x1b]0;pwned\x07Canon"),
                model: Some("EOS\x1b[2J R5"),
                ..Default::default()
            },
        ),
    );
    env.ok(&["add", env.photos_arg()]);
    env.ok(&["scan"]);
    let text = env.ok(&["info", photo.to_str().unwrap()]);
    assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text:?}");
    assert!(text.contains("\\u{1b}]0;pwned\\u{7}Canon"), "{text}");
    let json = env.json(&["info", photo.to_str().unwrap()]);
    assert_eq!(json["camera_make"], "\x1b]0;pwned\x07Canon");
}
