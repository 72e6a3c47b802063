#!/usr/bin/env bash
# Installs what building and testing Shoebox needs on a fresh Debian machine.
# Idempotent: every step checks first, so a second run costs a second.
set -euo pipefail

# libimage-exiftool-perl: the tag tests read XMP sidecars back with exiftool.
APT_PACKAGES=(build-essential pkg-config util-linux libimage-exiftool-perl)
# The desktop app (src-tauri, Tauri 2 on WebKitGTK) and its bundles (.deb,
# AppImage: `file` is used by the AppImage bundler).
APT_PACKAGES+=(curl wget file libssl-dev libwebkit2gtk-4.1-dev libgtk-3-dev librsvg2-dev
    libayatana-appindicator3-dev libxdo-dev)
# The desktop end-to-end test (tests/desktop): a virtual X server, the
# WebKitGTK WebDriver that tauri-driver drives, and `import` for screenshots.
APT_PACKAGES+=(xvfb xauth webkit2gtk-driver imagemagick)

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
if command -v rustup >/dev/null 2>&1; then
    for component in rustfmt clippy; do
        rustup component list --installed 2>/dev/null | grep -q "^$component" || rustup component add "$component"
    done
fi

# tauri-driver: the WebDriver proxy for the desktop E2E (2.1.0 is the latest
# stable; the 3.x versions are alphas). About 30 s, only when missing.
if ! command -v tauri-driver >/dev/null 2>&1; then
    cargo install tauri-driver --locked --version 2.1.0
fi
