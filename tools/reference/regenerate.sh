#!/usr/bin/env bash
# Create/refresh tools/reference/.venv (idempotent) and run generate.py.
#   tools/reference/regenerate.sh                      # committed fixtures: clip-tiny and clip-tiny-gelu
#   tools/reference/regenerate.sh --config tiny-gelu   # just one committed config
#   tools/reference/regenerate.sh --config vit-b-32    # target/reference/clip-vit-b-32 (not committed)
# Any arguments are passed to generate.py.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
venv="$here/.venv"
python="${PYTHON:-python3}"
if [ ! -x "$venv/bin/python" ]; then
  "$python" -m venv "$venv"
fi
stamp="$venv/.requirements.sha256"
want="$(sha256sum "$here/requirements.txt" | cut -d' ' -f1)"
if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet -r "$here/requirements.txt"
  echo "$want" > "$stamp"
fi
cd "$here/../.."
exec "$venv/bin/python" tools/reference/generate.py "$@"
