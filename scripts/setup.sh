#!/usr/bin/env bash
# Set up everything robust-darts needs, idempotently:
#   1. Debian packages (libtorch-dev, python3-torch, dataset-fashion-mnist, build tools),
#      installed when missing if run as root, otherwise the exact apt command is printed;
#   2. npm dependencies (npm ci, only when package-lock.json changed);
#   3. the native libtorch addon (only when its sources changed);
#   4. the TypeScript build (incremental).
# Re-running it when everything is present takes a few seconds.
#
# Environment:
#   LIBTORCH=/path/to/libtorch   build against that libtorch instead of Debian's (e.g. a CUDA build,
#                                or the one inside a Python torch install:
#                                LIBTORCH=$(python3 -c 'import torch, os; print(os.path.dirname(torch.__file__))'))
#   LIBTORCH_CXX11_ABI=0         for libtorch builds made with the old C++ ABI (most pip wheels before 2.x)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

log() { printf '[setup] %s\n' "$*"; }

# ---- 1. Debian packages
PKGS=(libtorch-dev python3-torch dataset-fashion-mnist build-essential python3 fonts-dejavu-core)
missing=()
for p in "${PKGS[@]}"; do
  if [ "$p" = libtorch-dev ] && [ -n "${LIBTORCH:-}" ]; then continue; fi
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then missing+=("$p"); fi
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ]; then
    log "installing Debian packages: ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "robust-darts needs these Debian packages: ${missing[*]}" >&2
    echo "run:  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "then run this script again." >&2
    exit 1
  fi
fi

# the Slurm executor's tests run a real single-node Slurm (munge, slurmdbd on MariaDB)
if [ "$(id -u)" = 0 ]; then
  scripts/slurm-cluster.sh install
fi

if ! command -v node >/dev/null 2>&1; then
  echo "node (>= 20) is required but not installed; install Node.js 20 and run this script again" >&2
  exit 1
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]')
if [ "$NODE_MAJOR" -lt 20 ]; then
  echo "node >= 20 is required, found $(node --version)" >&2
  exit 1
fi

# ---- 2. npm dependencies
STAMP=node_modules/.rdarts-lock-stamp
if [ ! -f "$STAMP" ] || ! cmp -s package-lock.json "$STAMP"; then
  log "installing npm dependencies (npm ci)"
  # better-sqlite3 builds from source against the system Node headers (no header download)
  export npm_config_nodedir=/usr
  npm ci --no-audit --no-fund --loglevel=error
  cp package-lock.json "$STAMP"
fi

# ---- 3. native addon
ADDON=native/build/Release/rdarts_torch.node
NATIVE_STAMP=native/build/.rdarts-build-stamp
want="libtorch=${LIBTORCH:-debian} abi=${LIBTORCH_CXX11_ABI:-1} $(cat native/binding.gyp native/src/*.cc native/src/*.inc | sha256sum | cut -c1-16)"
if [ ! -f "$ADDON" ] || [ ! -f "$NATIVE_STAMP" ] || [ "$(cat "$NATIVE_STAMP")" != "$want" ]; then
  log "building the libtorch addon (${LIBTORCH:-Debian libtorch}; about 30 s)"
  npx node-gyp rebuild --directory native --nodedir=/usr --loglevel=error >/tmp/rdarts-native-build.log 2>&1 || {
    tail -40 /tmp/rdarts-native-build.log >&2
    echo "the native build failed; full log: /tmp/rdarts-native-build.log" >&2
    exit 1
  }
  echo "$want" > "$NATIVE_STAMP"
fi

# ---- 4. TypeScript
npx tsc -p tsconfig.json --incremental --tsBuildInfoFile dist/.tsbuildinfo
chmod +x dist/src/cli/main.js 2>/dev/null || true
log "ready: $(node -e "import('$ROOT/dist/src/torch/runtime.js').then(m => console.log('libtorch ' + m.libtorchVersion() + ', ' + m.getNumThreads() + ' threads' + (m.cudaAvailable() ? ', CUDA' : ', CPU only')))")"
