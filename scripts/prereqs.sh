#!/usr/bin/env bash
# Installs what building and testing Shoebox needs on a fresh Debian machine.
# Idempotent: every step checks first, so a second run costs a second.
#   bash scripts/prereqs.sh          # build, run and test (scripts/test.sh)
#   bash scripts/prereqs.sh --run    # build and run only (scripts/run.sh)
set -euo pipefail
mode=test
if [ "${1:-}" = --run ]; then
    mode=run
    shift
fi

APT_PACKAGES=(build-essential pkg-config util-linux)
# HEIC/HEIF/AVIF: libheif is compiled from the source libheif-sys vendors
# (cmake), against Debian's HEVC (libde265) and AV1 (dav1d, aom) codecs; it
# also finds and links x265 (which needs libnuma) and libjpeg when present,
# so those are installed too, to build the same library on every machine.
APT_PACKAGES+=(cmake libde265-dev libdav1d-dev libaom-dev libx265-dev libnuma-dev libjpeg-dev)
# The desktop app (src-tauri, Tauri 2 on WebKitGTK) and its bundles (.deb,
# AppImage: `file` is used by the AppImage bundler).
APT_PACKAGES+=(curl wget file libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev
    libayatana-appindicator3-dev libxdo-dev)
if [ "$mode" = test ]; then
    # libimage-exiftool-perl: the tag tests read XMP sidecars back with exiftool.
    # chromium: the browser walk of the UI (playwright-core drives Debian's
    # Chromium; Playwright's own browser download does not work offline).
    # imagemagick: that walk generates photos with `convert` (so does the
    # desktop E2E, which also takes screenshots with it).
    APT_PACKAGES+=(libimage-exiftool-perl chromium imagemagick)
    # The structure checks (tools/modcycles.py, tools/dupcheck.py).
    APT_PACKAGES+=(python3)
    # The desktop end-to-end test (tests/desktop): a virtual X server and the
    # WebKitGTK WebDriver that tauri-driver drives.
    APT_PACKAGES+=(xvfb xauth webkit2gtk-driver)
fi

sudo_if_needed() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

missing=()
for pkg in "${APT_PACKAGES[@]}" "$@"; do
    dpkg -s "$pkg" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing: ${missing[*]}"
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v cargo >/dev/null 2>&1; then
    curl -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
    # shellcheck disable=SC1091
    . "$HOME/.cargo/env"
fi
if [ "$mode" = test ] && command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
    done
fi

# tauri-driver: the WebDriver proxy for the desktop E2E (2.1.0 is the latest
# stable; the 3.x versions are alphas). About 30 s, only when missing.
if [ "$mode" = test ] && ! command -v tauri-driver >/dev/null 2>&1 \
    && [ ! -x "$HOME/.cargo/bin/tauri-driver" ]; then
    cargo install tauri-driver --locked --version 2.1.0
fi

# The web UI's packages (lockfile; nothing is downloaded when they are there).
if ! command -v npm >/dev/null 2>&1; then
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$root/ui/node_modules" ] || [ "$root/ui/package-lock.json" -nt "$root/ui/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$root/ui" --no-audit --no-fund
fi
# The Tauri CLI (root package.json) for building the desktop app.
if [ ! -d "$root/node_modules/@tauri-apps/cli" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$root" --no-audit --no-fund
fi
