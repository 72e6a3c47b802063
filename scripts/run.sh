#!/usr/bin/env bash
# The one command that sets up and runs Shoebox on a folder of photos:
#   bash scripts/run.sh ~/Pictures [MODEL]
# Installs prerequisites, builds the release CLI, registers the folder,
# indexes it, embeds and tags it with MODEL (a registry name, HF repo id or
# local folder; default: the library's model, else the registry default,
# downloaded once into the Hugging Face cache) and prints the status.
# Without network access and without a local model, indexing, browsing and
# exact/near duplicates still work; the embedding step says how to add a
# model from disk.
set -euo pipefail
cd "$(dirname "$0")/.."
folder="${1:?usage: scripts/run.sh PHOTO_FOLDER [MODEL]}"
model="${2:-${SHOEBOX_MODEL:-}}"

bash scripts/prereqs.sh
cargo build --release --locked -p shoebox-cli
shoebox=target/release/shoebox
model_args=()
if [ -n "$model" ]; then model_args=(--model "$model"); fi

"$shoebox" add "$folder"   # idempotent: a registered folder is kept
"$shoebox" scan
if ! "$shoebox" "${model_args[@]}" embed; then
    echo "run.sh: photos are indexed, but not embedded (see the message above);" \
         "search and tags need a model." >&2
fi
"$shoebox" status
echo "Try: $shoebox search \"kids on a beach\"   |   $shoebox dupes   |   $shoebox tags list"
