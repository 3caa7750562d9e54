#!/usr/bin/env bash
# Command 2 of the README: set up whatever is missing, then run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export RDARTS_THREADS="${RDARTS_THREADS:-1}"  # two test files run at once on two cores: one libtorch thread each avoids OpenMP spin contention
exec node --test --test-concurrency=2 dist/test/
