//! Opening folders in the OS file manager. The paths come from the engine
//! (a photo's file, the library folder), never from the page.

use std::path::Path;
use std::process::{Command, Stdio};

/// Shows `file` in its folder, selected where the platform can. Returns
/// whether a file manager was asked to.
pub fn reveal_item(file: &Path) -> bool {
    let ok = platform::reveal_item(file);
    if !ok {
        tracing::warn!(path = %file.display(), "could not reveal the file");
    }
    ok
}

/// Opens `dir` itself in the file manager.
pub fn open_folder(dir: &Path) -> bool {
    let ok = platform::open_folder(dir);
    if !ok {
        tracing::warn!(path = %dir.display(), "could not open the folder");
    }
    ok
}

/// Runs `cmd` detached (its exit is awaited on a thread so no zombie is
/// left). Whether it could be started.
fn launch(mut cmd: Command) -> bool {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    match cmd.spawn() {
        Ok(mut child) => {
            std::thread::spawn(move || child.wait());
            true
        }
        Err(e) => {
            tracing::debug!("cannot start {cmd:?}: {e}");
            false
        }
    }
}

#[cfg(target_os = "macos")]
mod platform {
    use super::*;

    pub fn reveal_item(file: &Path) -> bool {
        let mut cmd = Command::new("open");
        cmd.arg("-R").arg(file);
        launch(cmd)
    }

    pub fn open_folder(dir: &Path) -> bool {
        let mut cmd = Command::new("open");
        cmd.arg(dir);
        launch(cmd)
    }
}

#[cfg(windows)]
mod platform {
    use super::*;
    use std::os::windows::process::CommandExt;

    pub fn reveal_item(file: &Path) -> bool {
        // explorer parses its own command line: `/select,"C:\a b\c.jpg"`.
        let mut cmd = Command::new("explorer");
        cmd.raw_arg(format!("/select,\"{}\"", file.display()));
        launch(cmd)
    }

    pub fn open_folder(dir: &Path) -> bool {
        let mut cmd = Command::new("explorer");
        cmd.arg(dir);
        launch(cmd)
    }
}

#[cfg(not(any(target_os = "macos", windows)))]
mod platform {
    use super::*;

    /// The freedesktop FileManager1 D-Bus interface selects the file
    /// (Nautilus, Dolphin, Nemo, Caja, Thunar, ...); without it, the
    /// folder is opened with xdg-open.
    pub fn reveal_item(file: &Path) -> bool {
        let uri = file_uri(file);
        let shown = Command::new("dbus-send")
            .args([
                "--session",
                "--print-reply",
                "--reply-timeout=2000",
                "--dest=org.freedesktop.FileManager1",
                "/org/freedesktop/FileManager1",
                "org.freedesktop.FileManager1.ShowItems",
            ])
            .arg(format!("array:string:{uri}"))
            .arg("string:")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        shown || file.parent().is_some_and(open_folder)
    }

    pub fn open_folder(dir: &Path) -> bool {
        let mut cmd = Command::new("xdg-open");
        cmd.arg(dir);
        launch(cmd)
    }

    /// `file://` URI of an absolute path, percent-encoding every byte but
    /// unreserved characters and `/`. (dbus-send splits arrays at commas,
    /// so `,` is encoded too.)
    pub fn file_uri(path: &Path) -> String {
        use std::os::unix::ffi::OsStrExt;
        let mut uri = String::from("file://");
        for &b in path.as_os_str().as_bytes() {
            if b.is_ascii_alphanumeric() || b"-._~/".contains(&b) {
                uri.push(b as char);
            } else {
                uri.push_str(&format!("%{b:02X}"));
            }
        }
        uri
    }

    #[cfg(test)]
    mod tests {
        #[test]
        fn file_uris_are_encoded() {
            assert_eq!(
                super::file_uri(Path::new("/home/me/Ph otos/a,b é.jpg")),
                "file:///home/me/Ph%20otos/a%2Cb%20%C3%A9.jpg"
            );
        }
        use std::path::Path;
    }
}
