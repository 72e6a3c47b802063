#!/usr/bin/env bash
# Installs what building and testing Shoebox needs on a fresh Debian machine.
# Idempotent: every step checks first, so a second run costs a second.
set -euo pipefail

# libimage-exiftool-perl: the tag tests read XMP sidecars back with exiftool.
# chromium: the browser walk of the UI (playwright-core drives Debian's
# Chromium; Playwright's own browser download does not work offline).
# imagemagick: that walk generates photos with `convert`.
APT_PACKAGES=(build-essential pkg-config util-linux libimage-exiftool-perl chromium imagemagick)

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

# The web UI's packages (lockfile; nothing is downloaded when they are there).
if ! command -v npm >/dev/null 2>&1; then
    sudo_if_needed apt-get update -qq
    sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
fi
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
if [ ! -d "$root/ui/node_modules" ] || [ "$root/ui/package-lock.json" -nt "$root/ui/node_modules/.package-lock.json" ]; then
    npm ci --prefix "$root/ui" --no-audit --no-fund
fi
