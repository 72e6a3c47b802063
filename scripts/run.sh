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

# Only what building and running needs (the test tools are test.sh's).
bash scripts/prereqs.sh --run
[ -d node_modules/@tauri-apps/cli ] || npm ci --no-audit --no-fund
# `dist`: release without debug info, as the packages are built.
cargo build --profile dist --locked -p shoebox-cli
shoebox="$target/dist/shoebox"

# The command line, on the PATH of most desktops (~/.local/bin).
mkdir -p "$HOME/.local/bin"
ln -sf "$(cd "$(dirname "$shoebox")" && pwd)/shoebox" "$HOME/.local/bin/shoebox"
echo "run.sh: the command line is $HOME/.local/bin/shoebox (try \`shoebox --help\`)" >&2

if [ -n "$folder" ]; then
    # Idempotent (a registered folder is kept); the app indexes it.
    "$shoebox" add "$folder" --json >/dev/null
    echo "run.sh: added $folder; the app indexes it in the background" >&2
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
npx tauri build --no-bundle -- --profile dist
exec "$target/dist/shoebox-desktop"
