#!/usr/bin/env bash
# Load test of `shoebox serve` (release build) on a library of the cc0
# fixtures: 2,000 requests over 8 keep-alive connections, then 2,000 over
# 64. Prints p50/p95/p99. Loopback only; run it with nothing else building.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build --release -p shoebox-cli >/dev/null
cargo build --release -p shoebox-server --example load >/dev/null
work=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"' EXIT
export SHOEBOX_LIBRARY="$work/library" HF_HUB_OFFLINE=1
bin="${CARGO_TARGET_DIR:-target}/release"
"$bin/shoebox" add tests/fixtures/cc0 >/dev/null
"$bin/shoebox" scan >/dev/null
"$bin/shoebox" serve --port 0 --no-watch > "$work/url" &
pid=$!
while [ ! -s "$work/url" ]; do sleep 0.1; done
url=$(head -1 "$work/url")
"$bin/examples/load" "$url" 2000 8
"$bin/examples/load" "$url" 2000 64
