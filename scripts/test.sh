#!/usr/bin/env bash
# The one test command: installs prerequisites, then checks formatting,
# lints and runs every test in the workspace. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prereqs.sh

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --workspace --locked
# The desktop app end to end (tauri-driver + WebKitWebDriver under Xvfb);
# about a minute on top of the workspace build (README, "Desktop app").
bash tests/desktop/run.sh
