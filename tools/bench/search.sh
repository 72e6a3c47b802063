#!/usr/bin/env bash
# Search benchmark, one command: the in-memory int8 index on a real catalog of
# synthetic 512-d vectors (10k, 100k, 1M photos) against an rclip-style
# baseline, recall against exact f32, and text-query encoding time
# (see crates/engine/examples/search_bench.rs).
#
#   tools/bench/search.sh                        # N = 10000 100000 1000000, 200 queries
#   tools/bench/search.sh 10000 100000           # arguments go to search_bench
#   tools/bench/search.sh --queries 500 --baseline-queries 10
#   tools/bench/search.sh --model DIR            # text encoder to time (default: the
#                                                # ViT-B/32 from tools/reference/regenerate.sh
#                                                # when present, else the tiny test model)
#
# Builds the example in release (CARGO_TARGET_DIR, default target/), then runs it.
# Libraries go to a temp dir (TMPDIR) and are deleted afterwards (--keep keeps them);
# 1M photos need about 5 GB of disk and 8 GB of memory, and take a few minutes.
# Progress goes to stderr, the Markdown tables to stdout.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

echo "search.sh: building search_bench (release) ..." >&2
cargo build --release --quiet -p shoebox-engine --example search_bench
target_dir="${CARGO_TARGET_DIR:-$root/target}"

exec "$target_dir/release/examples/search_bench" "$@"
