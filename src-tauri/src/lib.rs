//! The Shoebox desktop app: a Tauri 2 shell over the command API.
//!
//! The shell holds no logic. Each entry of `shoebox_api::COMMANDS` is one
//! Tauri command that hands its JSON arguments to `shoebox_api::dispatch`
//! (docs/api.md is the contract); events from the API's bus go to the
//! window as `shoebox://event`; thumbnails and previews are served by photo
//! id from the `shoebox://` protocol. The live library (watcher and job
//! queue) runs while the app is open. What is specific to a desktop is
//! here: opening folders in the OS file manager, the window's state, and
//! where the library lives.

mod images;
mod reveal;
mod window_state;

use serde_json::{json, Value};
use shoebox_api::{dispatch, ApiError, ApiOptions, ApiState};
use tauri::ipc::InvokeBody;
use tauri::{Emitter, Manager};

include!("../command_list.rs");

/// The window event that carries every engine and API event (docs/api.md).
pub const EVENT: &str = "shoebox://event";

/// The protocol that serves images by photo id.
pub const PROTOCOL: &str = "shoebox";

macro_rules! define_commands {
    ($($name:ident),* $(,)?) => {
        /// One Tauri command per command-table entry (and the shell's own
        /// `reveal_library`); each only forwards its arguments.
        pub mod commands {
            $(
                #[tauri::command]
                pub async fn $name(
                    state: tauri::State<'_, shoebox_api::ApiState>,
                    request: tauri::ipc::Request<'_>,
                ) -> Result<serde_json::Value, serde_json::Value> {
                    crate::call(&state, stringify!($name), request.body()).await
                }
            )*
        }

        /// The names of the shell's commands, in table order.
        pub const SHELL_COMMANDS: &[&str] = &[$(stringify!($name)),*];

        fn invoke_handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$(commands::$name),*]
        }
    };
}

with_commands!(define_commands);

/// Runs command `name` off the main thread (commands may take seconds:
/// grouping duplicates, loading a model). Errors reject the `invoke`
/// promise with `{"error": {"code", "message"}}`, as over HTTP.
async fn call(state: &ApiState, name: &'static str, body: &InvokeBody) -> Result<Value, Value> {
    let args = match body {
        InvokeBody::Json(v) => v.clone(),
        InvokeBody::Raw(bytes) if bytes.is_empty() => Value::Null,
        InvokeBody::Raw(bytes) => serde_json::from_slice(bytes).map_err(|e| {
            ApiError::BadRequest(format!("arguments of `{name}` are not JSON: {e}")).to_json()
        })?,
    };
    let state = state.clone();
    tauri::async_runtime::spawn_blocking(move || execute(&state, name, args))
        .await
        .map_err(|e| {
            json!({"error": {"code": "internal", "message": format!("command `{name}` failed: {e}")}})
        })?
        .map_err(|e| e.to_json())
}

/// The command table, plus what only a desktop does with two answers.
fn execute(state: &ApiState, name: &str, args: Value) -> Result<Value, ApiError> {
    match name {
        "reveal_library" => {
            no_arguments(name, &args)?;
            let path = state.library_dir();
            let revealed = reveal::open_folder(path);
            Ok(json!({"path": path, "revealed": revealed}))
        }
        "reveal" => {
            let mut out = dispatch(state, name, args)?;
            let online = out.get("online").and_then(Value::as_bool).unwrap_or(false);
            let path = out
                .get("path")
                .and_then(Value::as_str)
                .map(std::path::PathBuf::from);
            out["revealed"] = json!(match path {
                Some(path) if online => reveal::reveal_item(&path),
                _ => false,
            });
            Ok(out)
        }
        _ => dispatch(state, name, args),
    }
}

fn no_arguments(name: &str, args: &Value) -> Result<(), ApiError> {
    match args {
        Value::Null => Ok(()),
        Value::Object(map) if map.is_empty() => Ok(()),
        _ => Err(ApiError::BadRequest(format!("`{name}` takes no arguments"))),
    }
}

/// What `shoebox-desktop --help` prints.
const USAGE: &str = "\
Shoebox, the desktop app: a private, offline photo organizer.

Usage: shoebox-desktop [--help | --version]

The library is SHOEBOX_LIBRARY, else the platform's data folder.
SHOEBOX_MODEL and SHOEBOX_DEVICE choose the model and the device;
SHOEBOX_LOG sets the log level. `shoebox --help` lists the command line,
and `shoebox serve` shows the same app in a browser.";

/// Answers the command line before anything starts: `Some(exit code)` when
/// the app should not open (help, version, no display). Other arguments
/// are left alone: WebKit's WebDriver starts the app with `--automation`.
pub fn answer_without_window(args: impl Iterator<Item = String>) -> Option<i32> {
    for arg in args {
        match arg.as_str() {
            "--help" | "-h" => {
                println!("{USAGE}");
                return Some(0);
            }
            "--version" | "-V" => {
                println!("shoebox-desktop {}", env!("CARGO_PKG_VERSION"));
                return Some(0);
            }
            _ => {}
        }
    }
    if cfg!(target_os = "linux") && !has_display() {
        eprintln!(
            "shoebox-desktop: no display to open a window on (DISPLAY and WAYLAND_DISPLAY are \
             unset); on a machine without a screen, `shoebox serve` shows the app in a browser"
        );
        return Some(1);
    }
    None
}

fn has_display() -> bool {
    ["DISPLAY", "WAYLAND_DISPLAY"]
        .iter()
        .any(|v| std::env::var_os(v).is_some_and(|d| !d.is_empty()))
}

/// Where the library lives: `SHOEBOX_LIBRARY`, else the platform's data
/// folder (as the CLI does).
pub fn library_dir() -> Result<std::path::PathBuf, shoebox_engine::EngineError> {
    match std::env::var_os("SHOEBOX_LIBRARY") {
        Some(dir) if !dir.is_empty() => Ok(dir.into()),
        _ => shoebox_engine::Library::default_dir(),
    }
}

/// The API options from the environment (`SHOEBOX_MODEL`, `SHOEBOX_DEVICE`).
fn api_options(dir: std::path::PathBuf) -> ApiOptions {
    let mut opts = ApiOptions::new(dir);
    opts.model = std::env::var("SHOEBOX_MODEL")
        .ok()
        .filter(|m| !m.is_empty());
    if let Ok(device) = std::env::var("SHOEBOX_DEVICE") {
        match device.parse() {
            Ok(device) => opts.device = device,
            Err(e) => tracing::warn!("SHOEBOX_DEVICE ignored: {e}"),
        }
    }
    opts
}

/// Only the app's own pages may load in the window: `tauri://localhost`
/// (Linux, macOS), `http://tauri.localhost` (Windows) and, in dev builds,
/// the Vite dev server on localhost. Anything else is refused.
fn allowed_navigation(url: &tauri::Url) -> bool {
    match (url.scheme(), url.host_str()) {
        ("tauri", _) => true,
        ("http", Some("tauri.localhost")) => true,
        ("http", Some("localhost")) | ("http", Some("127.0.0.1")) => cfg!(debug_assertions),
        ("about", _) => url.as_str() == "about:blank",
        _ => false,
    }
}

/// Starts the app (blocks until the last window closes).
pub fn run() {
    shoebox_api::init_logging();

    let state = match library_dir().map_err(ApiError::from).and_then(|dir| {
        tracing::info!(library = %dir.display(), "opening the library");
        ApiState::open(api_options(dir))
    }) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("cannot open the library: {e}");
            eprintln!("shoebox: cannot open the library: {e}");
            std::process::exit(1);
        }
    };

    let navigation_guard = tauri::plugin::Builder::<tauri::Wry>::new("shoebox-navigation")
        .on_navigation(|_, url| {
            let ok = allowed_navigation(url);
            if !ok {
                tracing::warn!(%url, "navigation refused: the app loads no remote content");
            }
            ok
        })
        .build();

    let result = tauri::Builder::default()
        .plugin(tauri_plugin_window_state::Builder::default().build())
        .plugin(navigation_guard)
        .manage(state)
        .register_asynchronous_uri_scheme_protocol(PROTOCOL, |ctx, request, responder| {
            let state = ctx.app_handle().state::<ApiState>().inner().clone();
            tauri::async_runtime::spawn_blocking(move || {
                responder.respond(images::respond(&state, &request));
            });
        })
        .invoke_handler(invoke_handler())
        .on_window_event(|window, event| {
            if matches!(
                event,
                tauri::WindowEvent::Resized(_) | tauri::WindowEvent::Moved(_)
            ) {
                window_state::changed(window.app_handle());
            }
        })
        .setup(|app| {
            forward_events(app.handle().clone());
            start_live(app.state::<ApiState>().inner().clone());
            Ok(())
        })
        .build(tauri::generate_context!());
    let app = match result {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("the app did not start: {e}");
            eprintln!("shoebox: {e}");
            std::process::exit(1);
        }
    };
    app.run(|app, event| {
        if let tauri::RunEvent::Exit = event {
            // Work left is queued in the catalog and goes on at the next start.
            if let Err(e) = app.state::<ApiState>().stop_live() {
                tracing::warn!("the live library did not stop cleanly: {e}");
            }
        }
    });
}

/// Starts the live library (reconcile, watch, background jobs) off the
/// main thread, so the window shows at once; its events reach the window
/// through the bus. Without it the app still browses and searches, and
/// the API indexes in a simpler background pass when asked.
fn start_live(state: ApiState) {
    let spawned = std::thread::Builder::new()
        .name("shoebox-live-start".into())
        .spawn(move || {
            if let Err(e) = state.start_live() {
                tracing::error!("the live library did not start: {e}");
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the live library: {e}");
    }
}

/// Every event of the API's bus (engine progress, downloads, changes) goes
/// to the windows as `shoebox://event`, unchanged.
fn forward_events(app: tauri::AppHandle) {
    let events = app.state::<ApiState>().events().subscribe();
    let spawned = std::thread::Builder::new()
        .name("shoebox-events".into())
        .spawn(move || {
            for event in events {
                if let Err(e) = app.emit(EVENT, &event) {
                    tracing::warn!("cannot send an event to the window: {e}");
                }
            }
        });
    if let Err(e) = spawned {
        tracing::error!("cannot start the event thread: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_shell_command_per_table_entry() {
        let table: Vec<&str> = shoebox_api::COMMANDS.iter().map(|c| c.name).collect();
        let shell_only = ["reveal_library"];
        let shell: Vec<&str> = SHELL_COMMANDS
            .iter()
            .copied()
            .filter(|n| !shell_only.contains(n))
            .collect();
        let missing: Vec<_> = table.iter().filter(|n| !shell.contains(n)).collect();
        let extra: Vec<_> = shell.iter().filter(|n| !table.contains(n)).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "src-tauri/command_list.rs differs from shoebox_api::COMMANDS: missing {missing:?}, unknown {extra:?}"
        );
    }

    #[test]
    fn capabilities_grant_exactly_the_shell_commands_and_event_listening() {
        let text = include_str!("../capabilities/default.json");
        let cap: Value = serde_json::from_str(text).unwrap();
        let granted: Vec<&str> = cap["permissions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p.as_str().expect("plain permission names"))
            .collect();
        let mut expected: Vec<String> = SHELL_COMMANDS
            .iter()
            .map(|n| format!("allow-{}", n.replace('_', "-")))
            .collect();
        expected.push("core:event:allow-listen".into());
        expected.push("core:event:allow-unlisten".into());
        let mut got: Vec<String> = granted.iter().map(|s| s.to_string()).collect();
        got.sort();
        expected.sort();
        assert_eq!(got, expected);
        assert_eq!(cap["windows"], json!(["main"]));
        assert!(
            cap.get("remote").is_none(),
            "no remote origin gets commands"
        );
    }

    #[test]
    fn configuration_is_strict() {
        let conf: Value = serde_json::from_str(include_str!("../tauri.conf.json")).unwrap();
        let security = &conf["app"]["security"];
        assert_eq!(security["assetProtocol"]["enable"], json!(false));
        let csp = &security["csp"];
        assert_eq!(csp["default-src"], "'self'");
        let img = csp["img-src"].as_str().unwrap();
        for source in ["shoebox:", "http://shoebox.localhost"] {
            assert!(
                img.split(' ').any(|s| s == source),
                "img-src lacks {source}"
            );
        }
        for (directive, value) in csp.as_object().unwrap() {
            let value = value.as_str().unwrap();
            assert!(
                !value.contains("http://*")
                    && !value.contains("https:")
                    && !value.contains("'unsafe-eval'")
                    && !value.split(' ').any(|s| s == "*"),
                "{directive} allows remote or eval: {value}"
            );
        }
        assert_eq!(conf["app"]["withGlobalTauri"], json!(false));
    }

    #[test]
    fn navigation_stays_inside_the_app() {
        let ok = |u: &str| allowed_navigation(&tauri::Url::parse(u).unwrap());
        assert!(ok("tauri://localhost/index.html"));
        assert!(ok("http://tauri.localhost/"));
        assert!(!ok("https://example.com/"));
        assert!(!ok("http://example.com/"));
        assert!(!ok("file:///etc/passwd"));
        assert!(!ok("shoebox://thumb/1"));
    }

    #[test]
    fn library_dir_honours_the_environment() {
        // Read only: the variable may or may not be set in the test run.
        let dir = library_dir().unwrap();
        match std::env::var_os("SHOEBOX_LIBRARY") {
            Some(v) if !v.is_empty() => assert_eq!(dir, std::path::PathBuf::from(v)),
            _ => assert_eq!(dir, shoebox_engine::Library::default_dir().unwrap()),
        }
    }
}
