#!/usr/bin/env bash
# The one command that sets up and runs Shoebox:
#   bash scripts/run.sh [PHOTO_FOLDER] [MODEL]
# Installs prerequisites, builds the desktop app (Tauri, the UI embedded)
# and launches it. With a PHOTO_FOLDER, the folder is registered first (and
# MODEL, a registry name, HF repo id or local folder, chosen), so the app
# opens on an indexing library; without one, the app's first-run screen asks.
#
# Headless (no display, or SHOEBOX_HEADLESS=1): the same UI is served by
# `shoebox serve` on 127.0.0.1 with a token; open the URL it prints.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:-}"
model="${2:-${SHOEBOX_MODEL:-}}"
target="${CARGO_TARGET_DIR:-target}"

bash scripts/prereqs.sh
[ -d node_modules/@tauri-apps/cli ] || npm ci --no-audit --no-fund
cargo build --release --locked -p shoebox-cli
shoebox="$target/release/shoebox"

if [ -n "$folder" ]; then
    "$shoebox" add "$folder"   # idempotent: a registered folder is kept
    if [ -n "$model" ]; then
        "$shoebox" model use "$model" || echo "run.sh: could not choose the model $model (see above); the app can add one later" >&2
    fi
fi

if [ "${SHOEBOX_HEADLESS:-0}" = 1 ] || { [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ]; }; then
    echo "run.sh: no display; serving the UI instead (open the URL below, Ctrl-C stops)" >&2
    npm --prefix ui run build
    exec "$shoebox" serve --ui ui/dist
fi

# `tauri build` runs the UI build first and embeds ui/dist in the binary.
npx tauri build --no-bundle
exec "$target/release/shoebox-desktop"
