// Phase planes: the layout the addon's direct kernels read their inputs in (docs/speed.md).
//
// A plane of H×W values, padded by pw columns on the left (and zeros or −∞ elsewhere, as the
// caller filled P), is split by column into sw "phase" planes: phase r holds padded columns r,
// r + sw, r + 2·sw, … . For a kernel tap at padded column offset c = j·d, the inputs met by outputs
// ox = 0, 1, 2, … (padded column ox·sw + c) are then one contiguous run: phase c mod sw, from
// position ⌊c / sw⌋. The divisions are done here, once per call, never in a kernel's inner loop.
#pragma once
#include <cstdint>
#include <cstring>
#include <vector>

// x86-64: one copy of a kernel per instruction set (AVX-512; FMA, which brings AVX; the baseline),
// picked when the addon loads; elsewhere the compiler's default. ("avx2" alone would leave out FMA.)
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define RDARTS_CLONES __attribute__((target_clones("avx512f", "fma", "default")))
#else
#define RDARTS_CLONES
#endif

namespace rdarts {

// Copy plane x (H×W) into P: phase r's row (iy + top) starts at P + (r·rowsP + iy + top)·Wq.
// Positions past Wq are dropped; P's other values are left as they are (the caller's padding).
template <typename T>
void FillPhases(const T* x, T* P, int64_t H, int64_t W, int64_t rowsP, int64_t top, int64_t Wq, int64_t sw, int64_t pw) {
  for (int64_t iy = 0; iy < H; iy++) {
    const T* xr = x + iy * W;
    if (sw == 1) {
      const int64_t n = W < Wq - pw ? W : Wq - pw;
      if (n > 0) std::memcpy(P + (iy + top) * Wq + pw, xr, sizeof(T) * static_cast<size_t>(n));
      continue;
    }
    for (int64_t r = 0; r < sw; r++) {
      T* dst = P + (r * rowsP + iy + top) * Wq;
      // padded column pos·sw + r is input column pos·sw + r − pw
      for (int64_t pos = 0, ix = r - pw; pos < Wq; pos++, ix += sw)
        if (ix >= 0 && ix < W) dst[pos] = xr[ix];
    }
  }
}

// off[j] = the start of tap j's run relative to its row: phase (j·d) mod sw, position ⌊j·d / sw⌋.
inline std::vector<int64_t> PhaseOffsets(int64_t kw, int64_t d, int64_t sw, int64_t rowsP, int64_t Wq) {
  std::vector<int64_t> off(static_cast<size_t>(kw));
  for (int64_t j = 0; j < kw; j++) off[static_cast<size_t>(j)] = ((j * d) % sw) * rowsP * Wq + (j * d) / sw;
  return off;
}

}  // namespace rdarts
