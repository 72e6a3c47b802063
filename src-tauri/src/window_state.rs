//! Window size, position and maximised state survive restarts.
//! tauri-plugin-window-state restores them at start and saves them when the
//! app exits normally; this also saves half a second after the window was
//! last moved or resized, so a crash or a killed process keeps them too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tauri::AppHandle;
use tauri_plugin_window_state::{AppHandleExt, StateFlags};

/// Moves and resizes come in bursts while the user drags: save once the
/// burst is over.
const QUIET: Duration = Duration::from_millis(500);

static GENERATION: AtomicU64 = AtomicU64::new(0);

/// The window moved or was resized.
pub fn changed(app: &AppHandle) {
    let generation = GENERATION.fetch_add(1, Ordering::SeqCst) + 1;
    let app = app.clone();
    let spawned = std::thread::Builder::new()
        .name("shoebox-window-state".into())
        .spawn(move || {
            std::thread::sleep(QUIET);
            if GENERATION.load(Ordering::SeqCst) == generation {
                if let Err(e) = app.save_window_state(StateFlags::all()) {
                    tracing::warn!("window state not saved: {e}");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::debug!("window state not scheduled: {e}");
    }
}
