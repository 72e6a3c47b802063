#!/usr/bin/env bash
# Desktop end-to-end test: builds the debug app with the UI embedded
# (`npx tauri build --debug --no-bundle`), builds a real library from the
# cc0 fixtures with the tiny random-weight CLIP model, and drives the app
# under Xvfb through tauri-driver + WebKitWebDriver: open, search, open a
# photo. Screenshots go to $CARGO_TARGET_DIR/e2e-screenshots (default
# target/e2e-screenshots).
#
# Needs what scripts/prereqs.sh installs (webkit2gtk, xvfb, webkit2gtk-driver,
# tauri-driver) and Node/npm. Usage: bash tests/desktop/run.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
target=${CARGO_TARGET_DIR:-$root/target}
shots=$target/e2e-screenshots
export PATH="$HOME/.cargo/bin:$PATH"

for tool in node npm xvfb-run tauri-driver WebKitWebDriver; do
    command -v "$tool" >/dev/null || { echo "desktop E2E: $tool is missing (run scripts/prereqs.sh)" >&2; exit 1; }
done

t0=$SECONDS
[ -x node_modules/.bin/tauri ] || npm ci --no-audit --no-fund --loglevel=error
[ -d ui/node_modules ] || npm --prefix ui ci --no-audit --no-fund --loglevel=error
cargo build -p shoebox-cli --locked
# Runs `npm --prefix ui run build` first (beforeBuildCommand), then cargo
# with the custom-protocol feature: a standalone binary serving ui/dist.
npx tauri build --debug --no-bundle
echo "desktop E2E: build took $((SECONDS - t0)) s"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/photos"
cp tests/fixtures/cc0/*.png tests/fixtures/cc0/*.jpg "$work/photos/"
count=$(find "$work/photos" -type f | wc -l)
# A photo that arrives while the app runs (the live library must pick it up).
convert -size 640x480 gradient:'#3a7bd5-#f7b733' -fill '#2d6a4f' -draw 'circle 320,300 320,380' "$work/new.jpg"
export E2E_NEW_PHOTO="$work/new.jpg" E2E_PHOTOS="$work/photos"

# A fresh library, model and per-user folders: nothing of the machine's
# own Shoebox, WebKit cache or saved window state is read or written.
export SHOEBOX_LIBRARY="$work/library"
export XDG_CONFIG_HOME="$work/config" XDG_CACHE_HOME="$work/cache" XDG_DATA_HOME="$work/data"
export HF_HUB_OFFLINE=1 SHOEBOX_LOG=${SHOEBOX_LOG:-warn}
shoebox=$target/debug/shoebox
"$shoebox" add "$work/photos" >/dev/null
"$shoebox" scan >/dev/null
"$shoebox" model use tests/fixtures/models/clip-tiny >/dev/null
"$shoebox" embed >/dev/null

rm -rf "$shots"
t1=$SECONDS
xvfb-run -a -s "-screen 0 1280x800x24" \
    node tests/desktop/e2e.mjs "$target/debug/shoebox-desktop" "$shots" "$count"
echo "desktop E2E: test took $((SECONDS - t1)) s, screenshots in $shots"
