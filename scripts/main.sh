#!/usr/bin/env bash
# Command 1 of the README: set up whatever is missing, then run the main job (the demo search).
# Extra arguments go to `rdarts demo` (see `npx rdarts demo --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec node dist/src/cli/main.js demo "$@"
