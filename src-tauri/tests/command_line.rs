//! The desktop binary's command line (issue 21): `--help` and `--version`
//! answer without opening a window or a library, and a machine without a
//! display gets one line and an exit code, not a GTK panic.

use std::process::Command;

fn desktop(library: &std::path::Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_shoebox-desktop"));
    c.env("SHOEBOX_LIBRARY", library)
        .env_remove("DISPLAY")
        .env_remove("WAYLAND_DISPLAY");
    c
}

#[test]
fn help_and_version_answer_before_anything_opens() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    let out = desktop(&library).arg("--version").output().unwrap();
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        format!("shoebox-desktop {}", env!("CARGO_PKG_VERSION"))
    );
    let out = desktop(&library).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: shoebox-desktop"));
    assert!(
        !library.exists(),
        "no library is made to answer the command line"
    );
}

#[test]
fn without_a_display_it_says_so_in_one_line() {
    let tmp = tempfile::tempdir().unwrap();
    let library = tmp.path().join("library");
    // (WebKit's WebDriver adds `--automation`: other arguments are left alone.)
    let out = desktop(&library).arg("--automation").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    assert!(err.contains("no display"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
    assert!(!library.exists());
}
