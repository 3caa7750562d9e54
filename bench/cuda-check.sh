#!/usr/bin/env bash
# Device check: build the addon against the CUDA libtorch inside the machine's Python torch, then
# run dist/bench/cuda-check.js. Needs: node, g++, python3 with a CUDA torch; the carried dist/ and
# node_modules/{node-addon-api,yaml,zod}.
set -uo pipefail
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
nvidia-smi -L || true
# a device machine without Node.js: use a carried, xz-compressed node binary and N-API headers (.device/)
if ! command -v node >/dev/null && [ -f .device/node.xz ]; then
  mkdir -p /tmp/nodebin && xz -dc .device/node.xz > /tmp/nodebin/node && chmod +x /tmp/nodebin/node
  export PATH=/tmp/nodebin:$PATH
fi
echo "node: $(node --version 2>&1) g++: $(g++ --version 2>&1 | head -1)"
PY=""
for p in python3 /usr/bin/python3 /opt/conda/bin/python; do
  if $p -c 'import torch' 2>/dev/null; then PY=$p; break; fi
done
[ -n "$PY" ] || { echo "no python with torch"; exit 2; }
$PY -c 'import torch; print("torch", torch.__version__, "cuda", torch.cuda.is_available(), torch.version.cuda, "abi", torch._C._GLIBCXX_USE_CXX11_ABI)'
TORCH=$($PY -c 'import torch, os; print(os.path.dirname(torch.__file__))')
ABI=$($PY -c 'import torch; print(int(torch._C._GLIBCXX_USE_CXX11_ABI))')
NODE_INC=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")/include/node
[ -f "$NODE_INC/node_api.h" ] || NODE_INC=$(pwd)/.device/include
echo "torch at $TORCH, node headers at $NODE_INC"
time g++ -shared -fPIC -O2 -std=gnu++17 -DNAPI_VERSION=8 -DNAPI_CPP_EXCEPTIONS -D_GLIBCXX_USE_CXX11_ABI=$ABI \
  -I"$NODE_INC" -Inode_modules/node-addon-api -I"$TORCH/include" -I"$TORCH/include/torch/csrc/api/include" \
  -Wno-deprecated-declarations native/src/addon.cc -o "$OUT/rdarts_torch.node" \
  -L"$TORCH/lib" -Wl,--no-as-needed -ltorch -ltorch_cpu -ltorch_cuda -lc10 -lc10_cuda -Wl,-rpath,"$TORCH/lib" 2>&1 | grep -v warning | head -30
[ -f "$OUT/rdarts_torch.node" ] || { echo "addon build failed"; exit 3; }
RDARTS_ADDON="$OUT/rdarts_torch.node" node dist/bench/cuda-check.js 2>&1 | tee "$OUT/cuda-check.log"
