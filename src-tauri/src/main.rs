// No console window behind the app in Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    // `--help` and `--version` answer before any window or library; a
    // machine without a display gets one line, not a GTK panic.
    if let Some(code) = shoebox_desktop::answer_without_window(std::env::args().skip(1)) {
        std::process::exit(code);
    }
    shoebox_desktop::run()
}
