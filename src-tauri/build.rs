//! Tauri's build step, plus the app manifest: one permission per shell
//! command (`allow-<name>`), so capabilities/default.json can grant exactly
//! these and nothing else.

include!("command_list.rs");

macro_rules! names {
    ($($name:ident),* $(,)?) => {
        &[$(stringify!($name)),*]
    };
}

fn main() {
    let commands: &[&str] = with_commands!(names);
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .app_manifest(tauri_build::AppManifest::new().commands(commands)),
    )
    .expect("tauri build step");
}
