#!/usr/bin/env bash
# Search-step CPU time (user+sys, 1 thread), TS with the addon's depthwise backward, TS with
# libtorch's, and the PyTorch twin, interleaved per repetition (docs/speed.md#measuring):
#   per step = (cpu(1 warm-up + N2 steps) − cpu(1 warm-up + N1 steps)) / (N2 − N1)
# CPU time is what a loaded machine inflates least; wall time is bench/speed.js.
#   bash bench/cpu-steps.sh [reps=2]      (after scripts/setup.sh; config (b): darts, 5 cells, C8, B32)
set -euo pipefail
cd "$(dirname "$0")/.."
REPS=${1:-2}; N1=1; N2=4
cpu() { /usr/bin/time -f "%U %S" -o /tmp/rdarts-cpu-steps.t "$@" > /dev/null 2> /tmp/rdarts-cpu-steps.err || { echo "FAILED $*: $(tail -2 /tmp/rdarts-cpu-steps.err)" >&2; exit 1; }; awk '{print $1+$2}' /tmp/rdarts-cpu-steps.t; }
for order in first second; do
  for rep in $(seq 1 "$REPS"); do
    for impl in native libtorch py; do
      common="--order $order --layers 5 --warmup 1 --space darts --batch 32"
      if [ "$impl" = py ]; then
        a=$(cpu /usr/bin/python3 bench/py/search_steps.py $common --C 8 --threads 1 --steps $N1)
        b=$(cpu /usr/bin/python3 bench/py/search_steps.py $common --C 8 --threads 1 --steps $N2)
      else
        a=$(cpu env RDARTS_THREADS=1 RDARTS_DEPTHWISE=$impl node dist/bench/search-steps.js --child $common --channels 8 --steps $N1)
        b=$(cpu env RDARTS_THREADS=1 RDARTS_DEPTHWISE=$impl node dist/bench/search-steps.js --child $common --channels 8 --steps $N2)
      fi
      echo "config (b) $order rep $rep $impl: $(echo "($b - $a) / ($N2 - $N1)" | bc -l | xargs printf '%.3f') CPU s/step"
    done
  done
done
