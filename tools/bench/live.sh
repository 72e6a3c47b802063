#!/usr/bin/env bash
# Live-library benchmark, one command: start-up reconcile time on a real tree,
# idle RSS and CPU of `shoebox watch` on a catalog of real + synthetic entries,
# and the time from file creation until a search finds the photo
# (see crates/engine/examples/live_bench.rs).
#
#   tools/bench/live.sh                                   # 10k real files + 90k synthetic entries
#   tools/bench/live.sh --real 2000 --synthetic 0 --idle-seconds 10
#   tools/bench/live.sh --model DIR                       # model for the latency runs
#                                                         # (default: the tiny test model)
#
# Builds the example and the CLI in release (CARGO_TARGET_DIR, default target/).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"
echo "live.sh: building live_bench and shoebox (release) ..." >&2
cargo build --release --quiet -p shoebox-engine --example live_bench
cargo build --release --quiet -p shoebox-cli
target_dir="${CARGO_TARGET_DIR:-$root/target}"
exec "$target_dir/release/examples/live_bench" --shoebox "$target_dir/release/shoebox" "$@"
