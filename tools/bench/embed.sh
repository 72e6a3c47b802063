#!/usr/bin/env bash
# Embedding benchmark, one command: Shoebox's embedding job vs the PyTorch reference
# pipeline on the same generated 12 MP JPEGs (see crates/engine/examples/pipeline_bench.rs).
#
#   tools/bench/embed.sh                 # N=32 photos, 2 threads, best of 2 passes
#   tools/bench/embed.sh 16 --repeats 1  # arguments go to pipeline_bench
#   THREADS=4 tools/bench/embed.sh       # compute threads on both sides (default 2)
#   MODEL=siglip2-b32-256 tools/bench/embed.sh   # the SigLIP 2 B/32-256 shapes
#
# Builds the example in release (CARGO_TARGET_DIR, default target/), generates the
# random-weight ViT-B/32 model with tools/reference/regenerate.sh when it is missing
# (this also creates the PyTorch venv), then runs both sides and prints Markdown tables.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
threads="${THREADS:-2}"
# MODEL=siglip2-b32-256 or siglip2-b16-224 benchmarks the SigLIP 2 shapes instead.
name="${MODEL:-clip-vit-b-32}"
model="$root/target/reference/$name/model"
python="$root/tools/reference/.venv/bin/python"

if [ ! -f "$model/model.safetensors" ] || [ ! -x "$python" ]; then
  echo "embed.sh: generating the $name reference model (and venv) ..." >&2
  case "$name" in
    clip-vit-b-32) tools/reference/regenerate.sh --config vit-b-32 >&2 ;;
    siglip2-*) "$python" tools/reference/generate_siglip.py --config "${name#siglip2-}" >&2 ;;
    *) echo "embed.sh: unknown MODEL $name" >&2; exit 2 ;;
  esac
fi

echo "embed.sh: building pipeline_bench (release) ..." >&2
cargo build --release --quiet -p shoebox-engine --example pipeline_bench
target_dir="${CARGO_TARGET_DIR:-$root/target}"

export RAYON_NUM_THREADS="$threads"
export OMP_NUM_THREADS="$threads"
exec "$target_dir/release/examples/pipeline_bench" --model "$model" --python "$python" "$@"
