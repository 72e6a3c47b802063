#!/usr/bin/env bash
# The one test command: installs prerequisites, then checks formatting,
# lints and runs every test in the workspace. CI runs exactly this.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/prereqs.sh

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings

# Structure (docs/architecture.md, "Invariants"): no import cycle between
# the top-level modules of a crate, and no block of 6+ lines copied
# between files.
python3 tools/modcycles.py
python3 tools/dupcheck.py

# The web UI: types, unit tests (transports mocked), the production build
# (which also checks it runs under a `default-src 'self'` CSP).
npm --prefix ui run check
npm --prefix ui test
npm --prefix ui run build

cargo test --workspace --locked
# The CLI tests again with the SigLIP family's tiny model (the default family
# of a new library): search, tags, duplicates and `serve` end to end.
SHOEBOX_TEST_FAMILY=siglip cargo test -p shoebox-cli --locked --test shell

# The real UI in a real browser on the real engine: `shoebox serve` on a
# library built from the cc0 fixtures, driven by playwright-core in Debian's
# Chromium; screenshots in target/ui-e2e/.
SHOEBOX_BIN="${CARGO_TARGET_DIR:-target}/debug/shoebox" node ui/scripts/e2e-serve.mjs target/ui-e2e
# The same walk with the SigLIP family.
SHOEBOX_BIN="${CARGO_TARGET_DIR:-target}/debug/shoebox" \
  SHOEBOX_TEST_MODEL="$PWD/tests/fixtures/models/siglip-tiny" \
  node ui/scripts/e2e-serve.mjs target/ui-e2e-siglip

# The desktop app end to end (tauri-driver + WebKitWebDriver under Xvfb):
# open, search, open a photo, live arrival, window state; about a minute on
# top of the workspace build (README, "Desktop app"). Screenshots in
# target/e2e-screenshots/.
bash tests/desktop/run.sh
