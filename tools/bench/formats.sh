#!/usr/bin/env bash
# Format benchmark, one command: 12 MP HEIC against 12 MP JPEG, scan + embed,
# and against converting with heif-convert first (crates/engine/examples/format_bench.rs).
#
#   tools/bench/formats.sh            # N=16 photos, best of 2 runs per side
#   tools/bench/formats.sh 32 --runs 3
#
# Needs heif-enc and heif-convert (Debian: libheif-examples, installed here when
# missing). Uses the random-weight ViT-B/32 model, generating it with
# tools/reference/regenerate.sh when it is missing, so the model costs what the
# default model costs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
if ! command -v heif-enc >/dev/null || ! command -v heif-convert >/dev/null; then
  bash scripts/prereqs.sh libheif-examples >&2
fi
model="$root/target/reference/clip-vit-b-32/model"
if [ ! -f "$model/model.safetensors" ]; then
  echo "formats.sh: generating the ViT-B/32 reference model (and venv) ..." >&2
  tools/reference/regenerate.sh --config vit-b-32 >&2
fi
echo "formats.sh: building format_bench (release) ..." >&2
cargo build --release --quiet -p shoebox-engine --example format_bench
target_dir="${CARGO_TARGET_DIR:-$root/target}"
exec "$target_dir/release/examples/format_bench" --model "$model" "$@"
