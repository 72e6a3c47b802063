#!/usr/bin/env bash
# The one command that sets up and runs Shoebox on a folder of photos:
#   bash scripts/run.sh ~/Pictures
# Installs prerequisites, builds the release CLI, registers the folder,
# indexes it and prints the library's status.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:?usage: scripts/run.sh PHOTO_FOLDER}"

bash scripts/prereqs.sh
cargo build --release --locked -p shoebox-cli
shoebox=target/release/shoebox

"$shoebox" add "$folder"   # idempotent: a registered folder is kept
"$shoebox" scan
"$shoebox" status
