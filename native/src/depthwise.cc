// Depthwise convolution for the DARTS separable and dilated convolutions (docs/speed.md#depthwise).
//
// libtorch 1.13's CPU build (oneDNN 2.6) has a fast depthwise forward for every kernel size, but
// its backward-weights kernel is fast only for 3×3 without dilation; 5×5 and dilated depthwise
// convolutions fall back to im2col + GEMM, about 10× the forward's time (engine-notes §B). This
// file keeps libtorch's forward and replaces the backward:
//
//   input gradient   gx = depthwise conv of gO with the kernel flipped in both spatial axes and
//                    padding (k−1)·d − p (stride 1): again a forward convolution, so fast;
//   weight gradient  gw[c,i,j] = Σ_{b,y,x} gO[b,c,y,x] · x[b,c, y + i·d − p, x + j·d − p]:
//                    a direct loop, parallel over channels, one dot product per output row.
//
// Both are built from autograd Functions whose own backward is expressed through the same two
// (gw's input gradient is the input-gradient convolution with gw's incoming gradient as kernel;
// its gO-gradient is the forward convolution with it), so gradients of any order exist and the
// Hessian-vector products of the α-Hessian keep working.
//
// Strided convolutions (the reduction cells' edges from their inputs) are taken too: the output
// gradient is spread onto the input grid before the flipped-kernel convolution.

#include "depthwise.h"
#include "phase.h"

#include <ATen/Parallel.h>
#include <ATen/record_function.h>
#include <torch/csrc/autograd/custom_function.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace rdarts {

namespace {

std::atomic<bool> g_enabled{false};
std::atomic<int64_t> g_calls{0};

// the largest kernel side the direct kernels take (DepthwiseEligible, AvgPoolEligible): an output
// row's kernel rows are listed on the stack
constexpr int64_t kMaxKernel = 64;

using torch::autograd::AutogradContext;
using torch::autograd::tensor_list;

// One channel's weight gradient, accumulated into acc[kh*kw] (double):
//   acc[i,j] += Σ_{b,oy,ox} g[b,oy,ox] · x[b, oy·sh + i·dh − ph, ox·sw + j·dw − pw]
//
// Vectorised over ox. Each image's plane is first copied into zero-padded scratch: the output
// gradient as Ho rows of Wv = Wo rounded up to 16 (zeros after Wo), the input as sw "phase" planes
// (phase r holds padded columns r, r + sw, r + 2·sw, …), so that for every tap (i, j) the inputs
// that meet g's row oy are one contiguous run: phase (j·dw) mod sw, row oy·sh + i·dh, from column
// ⌊j·dw / sw⌋. Every tap then sums over the output rows 16 lanes at a time in registers (two loads
// per 16-wide multiply-add, no store); the Wv lane sums go into the double accumulator once per
// image. Padding is zeros, so no bounds appear in the inner loop.
struct Scratch {
  int64_t Wv, Hp, Wq;  // padded g row length; padded input rows; phase-plane row length
};

Scratch ScratchOf(int64_t H, int64_t Wo, int64_t kw, int64_t sw, int64_t ph, int64_t dw) {
  const int64_t Wv = (Wo + 15) / 16 * 16;
  return {Wv, H + 2 * ph, ((kw - 1) * dw) / sw + Wv};
}

// scratch sizes in elements: g rows, phase planes, per-tap sums
int64_t ScratchG(const Scratch& s, int64_t Ho) { return Ho * s.Wv; }
int64_t ScratchX(const Scratch& s, int64_t sw) { return sw * s.Hp * s.Wq; }
int64_t ScratchSums(const Scratch& s, int64_t taps) { return taps * s.Wv; }

#define RDARTS_DW_CHANNEL(NAME, scalar_t)                                                                                     \
  RDARTS_CLONES void NAME(const scalar_t* __restrict x, const scalar_t* __restrict g, double* __restrict acc,                   \
                          scalar_t* __restrict G, scalar_t* __restrict P, scalar_t* __restrict S, int64_t B, int64_t planeX,  \
                          int64_t planeG, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh,   \
                          int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {                                       \
    const Scratch sc = ScratchOf(H, Wo, kw, sw, ph, dw);                                                                      \
    const int64_t Wv = sc.Wv, Hp = sc.Hp, Wq = sc.Wq, taps = kh * kw;                                                         \
    const std::vector<int64_t> off = PhaseOffsets(kw, dw, sw, Hp, Wq);                                                        \
    std::memset(G, 0, sizeof(scalar_t) * static_cast<size_t>(Ho * Wv));                                                       \
    std::memset(P, 0, sizeof(scalar_t) * static_cast<size_t>(sw * Hp * Wq));                                                  \
    for (int64_t b = 0; b < B; b++) {                                                                                         \
      const scalar_t* xb = x + b * planeX;                                                                                    \
      const scalar_t* gb = g + b * planeG;                                                                                    \
      for (int64_t oy = 0; oy < Ho; oy++) std::memcpy(G + oy * Wv, gb + oy * Wo, sizeof(scalar_t) * static_cast<size_t>(Wo));  \
      FillPhases(xb, P, H, W, Hp, ph, Wq, sw, pw); /* the padding stays zero */                                              \
      /* per tap and 16-wide block, the sums over oy stay in registers (the same order of additions */                        \
      /* per lane as summing row by row into S) */                                                                            \
      for (int64_t i = 0; i < kh; i++)                                                                                        \
        for (int64_t j = 0; j < kw; j++) {                                                                                    \
          const scalar_t* xt = P + i * dh * Wq + off[static_cast<size_t>(j)];                                                 \
          scalar_t* s = S + (i * kw + j) * Wv;                                                                                \
          for (int64_t v = 0; v < Wv; v += 16) {                                                                              \
            scalar_t a[16] = {};                                                                                              \
            for (int64_t oy = 0; oy < Ho; oy++) {                                                                             \
              const scalar_t* __restrict gr = G + oy * Wv + v;                                                                \
              const scalar_t* __restrict xr = xt + oy * sh * Wq + v;                                                          \
              for (int l = 0; l < 16; l++) a[l] += gr[l] * xr[l];                                                             \
            }                                                                                                                 \
            for (int l = 0; l < 16; l++) s[v + l] = a[l];                                                                     \
          }                                                                                                                   \
        }                                                                                                                     \
      for (int64_t k = 0; k < taps; k++) {                                                                                    \
        double t = 0;                                                                                                         \
        for (int64_t l = 0; l < Wo; l++) t += static_cast<double>(S[k * Wv + l]);                                             \
        acc[k] += t;                                                                                                          \
      }                                                                                                                       \
    }                                                                                                                         \
  }

RDARTS_DW_CHANNEL(ChannelWeightGradF, float)
RDARTS_DW_CHANNEL(ChannelWeightGradD, double)
#undef RDARTS_DW_CHANNEL

void ChannelWeightGrad(const float* x, const float* g, double* acc, float* G, float* P, float* S, int64_t B, int64_t pX, int64_t pG,
                       int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw, int64_t ph,
                       int64_t pw, int64_t dh, int64_t dw) {
  ChannelWeightGradF(x, g, acc, G, P, S, B, pX, pG, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw);
}
void ChannelWeightGrad(const double* x, const double* g, double* acc, double* G, double* P, double* S, int64_t B, int64_t pX,
                       int64_t pG, int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                       int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  ChannelWeightGradD(x, g, acc, G, P, S, B, pX, pG, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw);
}

// One plane of a depthwise convolution read from scratch rows, stride 1 along the columns: output
// row oy takes kernel row i from scratch row t / div, t = oy·step + i·dh − lead, when t ≥ 0, div
// divides t and t / div < rowsP; other kernel rows are skipped. 16 outputs at a time are kept in
// registers over all taps: one 16-wide multiply-add per tap (libtorch's oneDNN path reorders every
// tensor to a blocked layout and back). off[j]: the start of tap j's run in a row (PhaseOffsets).
//   forward          step = stride, lead = 0, div = 1: every kernel row, from the zero-padded phase
//                    planes P the caller filled (their padding stays zero from plane to plane);
//   strided input    step = 1, lead = (k−1)·d − p, div = stride: P holds the output gradient's rows,
//   gradient         spread over the columns only; the rows between them would be all zeros, so
//                    the kernel rows that meet those are skipped (the sums are the same).
#define RDARTS_DW_ROWS(NAME, scalar_t)                                                                                        \
  RDARTS_CLONES void NAME(const scalar_t* __restrict P, const scalar_t* __restrict w, scalar_t* __restrict y,                  \
                          const int64_t* __restrict off, int64_t Wq, int64_t Ho, int64_t Wo, int64_t rowsP, int64_t kh,        \
                          int64_t kw, int64_t step, int64_t lead, int64_t div, int64_t dh) {                                   \
    const int64_t Wv = (Wo + 15) / 16 * 16;                                                                                   \
    for (int64_t oy = 0; oy < Ho; oy++) {                                                                                     \
      int64_t tap[kMaxKernel], row[kMaxKernel], taps = 0;                                                                     \
      for (int64_t i = 0; i < kh; i++) {                                                                                      \
        const int64_t t = oy * step + i * dh - lead;                                                                          \
        if (t < 0 || t % div != 0 || t / div >= rowsP) continue;                                                              \
        tap[taps] = i;                                                                                                        \
        row[taps++] = t / div;                                                                                                \
      }                                                                                                                       \
      for (int64_t v = 0; v < Wv; v += 16) {                                                                                  \
        scalar_t a[16] = {};                                                                                                  \
        for (int64_t q = 0; q < taps; q++) {                                                                                  \
          const scalar_t* __restrict base = P + row[q] * Wq + v;                                                              \
          const scalar_t* __restrict wr = w + tap[q] * kw;                                                                    \
          for (int64_t j = 0; j < kw; j++) {                                                                                  \
            const scalar_t* __restrict xr = base + off[j];                                                                    \
            const scalar_t t = wr[j];                                                                                         \
            for (int l = 0; l < 16; l++) a[l] += t * xr[l];                                                                   \
          }                                                                                                                   \
        }                                                                                                                     \
        const int64_t n = Wo - v < 16 ? Wo - v : 16;                                                                          \
        std::memcpy(y + oy * Wo + v, a, sizeof(scalar_t) * static_cast<size_t>(n));                                           \
      }                                                                                                                       \
    }                                                                                                                         \
  }

RDARTS_DW_ROWS(ChannelRowsF, float)
RDARTS_DW_ROWS(ChannelRowsD, double)
#undef RDARTS_DW_ROWS

void ChannelRows(const float* P, const float* w, float* y, const int64_t* off, int64_t Wq, int64_t Ho, int64_t Wo, int64_t rowsP, int64_t kh,
                 int64_t kw, int64_t step, int64_t lead, int64_t div, int64_t dh) {
  ChannelRowsF(P, w, y, off, Wq, Ho, Wo, rowsP, kh, kw, step, lead, div, dh);
}
void ChannelRows(const double* P, const double* w, double* y, const int64_t* off, int64_t Wq, int64_t Ho, int64_t Wo, int64_t rowsP,
                 int64_t kh, int64_t kw, int64_t step, int64_t lead, int64_t div, int64_t dh) {
  ChannelRowsD(P, w, y, off, Wq, Ho, Wo, rowsP, kh, kw, step, lead, div, dh);
}

// One plane of the forward, y[oy, ox] = Σ_{i,j} w[i,j] · x[oy·sh + i·dh − ph, ox·sw + j·dw − pw], from
// the zero-padded phase planes P: every kernel row. off is computed once per call, not per plane
// (on small planes the per-plane overhead is what costs).
template <typename T>
void ChannelForward(const T* P, const T* w, T* y, const int64_t* off, int64_t Wq, int64_t Ho, int64_t Wo, int64_t kh, int64_t kw, int64_t sh,
                    int64_t dh) {
  ChannelRows(P, w, y, off, Wq, Ho, Wo, std::numeric_limits<int64_t>::max(), kh, kw, sh, 0, 1, dh);
}

// Copy a strided convolution's output gradient g (Ho×Wo) into P spread over the columns, as the
// input gradient's row kernel reads it (ChannelRows with div = stride): g[iy, ix] at row iy, column
// left + ix·sw, zeros between (the caller's, left as they are); what falls past Wq is cropped.
template <typename T>
void FillSpread(const T* g, T* P, int64_t Ho, int64_t Wo, int64_t Wq, int64_t left, int64_t sw) {
  for (int64_t iy = 0; iy < Ho; iy++) {
    T* dst = P + iy * Wq;
    const T* src = g + iy * Wo;
    for (int64_t ix = 0, col = left; ix < Wo && col < Wq; ix++, col += sw) dst[col] = src[ix];
  }
}

// The geometry of one depthwise convolution (per spatial axis: stride, padding, dilation).
struct Geometry {
  int64_t sh, sw, ph, pw, dh, dw;
};

Geometry GeometryOf(AutogradContext* ctx) {
  auto get = [&](const char* k) { return ctx->saved_data[k].toInt(); };
  return {get("sh"), get("sw"), get("ph"), get("pw"), get("dh"), get("dw")};
}

void SaveGeometry(AutogradContext* ctx, const Geometry& q) {
  ctx->saved_data["sh"] = q.sh;
  ctx->saved_data["sw"] = q.sw;
  ctx->saved_data["ph"] = q.ph;
  ctx->saved_data["pw"] = q.pw;
  ctx->saved_data["dh"] = q.dh;
  ctx->saved_data["dw"] = q.dw;
}

// The weight-gradient kernel proper (no autograd).
at::Tensor WeightGradKernel(const at::Tensor& xIn, const at::Tensor& gIn, int64_t kh, int64_t kw, const Geometry& q) {
  RECORD_FUNCTION("rdarts::depthwise_weight_grad", std::vector<c10::IValue>());
  g_calls.fetch_add(1);
  const at::Tensor x = xIn.contiguous();
  const at::Tensor g = gIn.contiguous();
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  const int64_t Ho = g.size(2), Wo = g.size(3);
  TORCH_CHECK(g.size(0) == B && g.size(1) == C, "depthwise weight gradient: grad_output ", g.sizes(), " does not match input ", x.sizes());
  at::Tensor out = at::empty({C, 1, kh, kw}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwise_weight_grad", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* gp = g.data_ptr<scalar_t>();
    scalar_t* op = out.data_ptr<scalar_t>();
    const Scratch sc = ScratchOf(H, Wo, kw, q.sw, q.ph, q.dw);
    const int64_t nG = ScratchG(sc, Ho), nX = ScratchX(sc, q.sw), nS = ScratchSums(sc, kh * kw);
    at::parallel_for(0, C, 1, [&](int64_t c0, int64_t c1) {
      std::vector<double> acc(static_cast<size_t>(kh * kw));
      std::vector<scalar_t> scratch(static_cast<size_t>(nG + nX + nS));
      scalar_t* G = scratch.data();
      for (int64_t c = c0; c < c1; c++) {
        std::fill(acc.begin(), acc.end(), 0.0);
        ChannelWeightGrad(xp + c * H * W, gp + c * Ho * Wo, acc.data(), G, G + nG, G + nG + nX, B, C * H * W, C * Ho * Wo, H, W, Ho, Wo,
                          kh, kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw);
        for (int64_t k = 0; k < kh * kw; k++) op[c * kh * kw + k] = static_cast<scalar_t>(acc[static_cast<size_t>(k)]);
      }
    });
  });
  return out;
}

// The forward kernel proper (no autograd): parallel over the N·C planes.
at::Tensor ForwardKernel(const at::Tensor& xIn, const at::Tensor& wIn, const Geometry& q) {
  RECORD_FUNCTION("rdarts::depthwise_conv2d", std::vector<c10::IValue>());
  const at::Tensor x = xIn.contiguous();
  const at::Tensor w = wIn.contiguous();
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), kh = w.size(2), kw = w.size(3);
  const int64_t Ho = (H + 2 * q.ph - q.dh * (kh - 1) - 1) / q.sh + 1, Wo = (W + 2 * q.pw - q.dw * (kw - 1) - 1) / q.sw + 1;
  at::Tensor y = at::empty({N, C, Ho, Wo}, x.options());
  AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "depthwise_forward", [&] {
    const scalar_t* xp = x.data_ptr<scalar_t>();
    const scalar_t* wp = w.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    const Scratch sc = ScratchOf(H, Wo, kw, q.sw, q.ph, q.dw);
    const int64_t nX = ScratchX(sc, q.sw);
    const std::vector<int64_t> off = PhaseOffsets(kw, q.dw, q.sw, sc.Hp, sc.Wq);
    at::parallel_for(0, N * C, 4, [&](int64_t p0, int64_t p1) {
      std::vector<scalar_t> P(static_cast<size_t>(nX), scalar_t(0));  // the padding stays zero from plane to plane
      for (int64_t p = p0; p < p1; p++) {
        FillPhases(xp + p * H * W, P.data(), H, W, sc.Hp, q.ph, sc.Wq, q.sw, q.pw);
        ChannelForward(P.data(), wp + (p % C) * kh * kw, yp + p * Ho * Wo, off.data(), sc.Wq, Ho, Wo, kh, kw, q.sh, q.dh);
      }
    });
  });
  return y;
}

// The input gradient of a strided convolution proper (no autograd), for an input of H×W: the
// output gradient spread onto the input's columns straight into the zero scratch (FillSpread),
// then the stride-1 convolution with the flipped kernel wf over the rows that are not all zeros
// (ChannelRows), as InputGrad's tensor route computes it (the same sums, less the products with
// zero) without its two padded copies.
at::Tensor SpreadKernel(const at::Tensor& gIn, const at::Tensor& wf, const Geometry& q, int64_t H, int64_t W) {
  RECORD_FUNCTION("rdarts::depthwise_input_grad", std::vector<c10::IValue>());
  const at::Tensor g = gIn.contiguous();
  const at::Tensor w = wf.contiguous();
  const int64_t N = g.size(0), C = g.size(1), Ho = g.size(2), Wo = g.size(3), kh = w.size(2), kw = w.size(3);
  const int64_t lh = (kh - 1) * q.dh - q.ph, lw = (kw - 1) * q.dw - q.pw;
  // the stride-1 forward's row length for an input of W + (k−1)·d columns, padding in place; one
  // row per row of g (ChannelRows skips the zero rows between)
  const Scratch sc = ScratchOf(H + (kh - 1) * q.dh, W, kw, 1, 0, q.dw);
  const int64_t Wq = sc.Wq;
  at::Tensor y = at::empty({N, C, H, W}, g.options());
  AT_DISPATCH_FLOATING_TYPES(g.scalar_type(), "depthwise_input_grad", [&] {
    const scalar_t* gp = g.data_ptr<scalar_t>();
    const scalar_t* wp = w.data_ptr<scalar_t>();
    scalar_t* yp = y.data_ptr<scalar_t>();
    const std::vector<int64_t> off = PhaseOffsets(kw, q.dw, 1, Ho, Wq);
    at::parallel_for(0, N * C, 4, [&](int64_t p0, int64_t p1) {
      std::vector<scalar_t> P(static_cast<size_t>(Ho * Wq), scalar_t(0));  // the zeros stay zero from plane to plane
      for (int64_t p = p0; p < p1; p++) {
        FillSpread(gp + p * Ho * Wo, P.data(), Ho, Wo, Wq, lw, q.sw);
        ChannelRows(P.data(), wp + (p % C) * kh * kw, yp + p * H * W, off.data(), Wq, H, W, Ho, kh, kw, 1, lh, q.sh, q.dh);
      }
    });
  });
  return y;
}

// Which forward to use. Measured here (AMD EPYC, AVX2 + FMA, two threads; docs/speed.md#depthwise,
// bench/depthwise.ts --forward): on 32- and 16-wide planes the direct kernel is faster than oneDNN
// (B32 C16 16×16: 0.13 against 0.26 ms for 3×3, 0.22 against 0.26 for 5×5); on 8-wide ones, where
// half its 16 lanes are padding, only for kernels of up to 9 taps (B32 C32 8×8: 0.15 against 0.19 ms
// for 3×3, 0.23 against 0.18–0.22 for 5×5). float64 has no oneDNN path at all (libtorch falls back
// to a slow generic convolution).
bool DirectWidth(int64_t Wo, int64_t kh, int64_t kw) { return Wo >= 16 || (Wo >= 8 && kh * kw <= 9); }

bool UseDirectForward(const at::Tensor& x, const at::Tensor& w, int64_t sw, int64_t pw, int64_t dw) {
  if (x.scalar_type() != at::kFloat) return true;
  const int64_t Wo = (x.size(3) + 2 * pw - dw * (w.size(3) - 1) - 1) / sw + 1;
  return DirectWidth(Wo, w.size(2), w.size(3));
}

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w, const Geometry& q);
at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, const Geometry& q);
at::Tensor SpreadInputGrad(const at::Tensor& g, const at::Tensor& w, const Geometry& q, int64_t H, int64_t W);

// The input gradient of a depthwise conv with kernel w, for an input of H×W: a stride-1 depthwise
// conv of g with w flipped, padding (k−1)·d − p on the leading side. With stride s the output
// gradient is first spread onto the input's grid (s−1 zeros after each element), and the trailing
// side is padded (or cropped) so that the result is H×W again: in the direct kernel's scratch
// (DwInputGradFn) where the direct forward applies, else into one zero tensor for libtorch's conv.
at::Tensor InputGrad(const at::Tensor& g, const at::Tensor& w, const Geometry& q, int64_t H, int64_t W) {
  const int64_t kh = w.size(2), kw = w.size(3);
  const int64_t lh = (kh - 1) * q.dh - q.ph, lw = (kw - 1) * q.dw - q.pw;
  // stride 1: the padding is (k−1)·d − p on both sides, and the result is H×W
  if (q.sh == 1 && q.sw == 1) return Conv(g, w.flip({2, 3}), {1, 1, lh, lw, q.dh, q.dw});
  if (g.scalar_type() != at::kFloat || DirectWidth(W, kh, kw)) return SpreadInputGrad(g, w, q, H, W);
  const int64_t B = g.size(0), C = g.size(1), Ho = g.size(2), Wo = g.size(3);
  // the padded grid is H + (k−1)·d long on each axis; g's last rows/columns may fall past it (cropped)
  const int64_t Hp = H + (kh - 1) * q.dh, Wp = W + (kw - 1) * q.dw;
  const int64_t nh = std::min(Ho, (Hp - lh + q.sh - 1) / q.sh), nw = std::min(Wo, (Wp - lw + q.sw - 1) / q.sw);
  at::Tensor padded = at::zeros({B, C, Hp, Wp}, g.options());
  padded.slice(2, lh, lh + (nh - 1) * q.sh + 1, q.sh).slice(3, lw, lw + (nw - 1) * q.sw + 1, q.sw).copy_(g.slice(2, 0, nh).slice(3, 0, nw));
  return Conv(padded, w.flip({2, 3}), {1, 1, 0, 0, q.dh, q.dw});
}

// What each Function below saves: its two tensor inputs and the geometry.
void Keep(AutogradContext* ctx, const at::Tensor& a, const at::Tensor& b, const Geometry& q) {
  ctx->save_for_backward({a, b});
  SaveGeometry(ctx, q);
}
struct SavedPair {
  at::Tensor a, b;
  Geometry q;
};
SavedPair Restore(AutogradContext* ctx) {
  const auto saved = ctx->get_saved_variables();
  return {saved[0], saved[1], GeometryOf(ctx)};
}

struct DwConvFn : public torch::autograd::Function<DwConvFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& w, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                            int64_t dh, int64_t dw) {
    Keep(ctx, x, w, {sh, sw, ph, pw, dh, dw});
    return UseDirectForward(x, w, sw, pw, dw) ? ForwardKernel(x, w, {sh, sw, ph, pw, dh, dw})
                                              : at::conv2d(x, w, {}, {sh, sw}, {ph, pw}, {dh, dw}, x.size(1));
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto [x, w, q] = Restore(ctx);
    const at::Tensor& g = grads[0];
    at::Tensor gx, gw;
    if (ctx->needs_input_grad(0)) gx = InputGrad(g, w, q, x.size(2), x.size(3));
    if (ctx->needs_input_grad(1)) gw = WeightGrad(x, g, w.size(2), w.size(3), q);
    return {gx, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

struct DwWeightGradFn : public torch::autograd::Function<DwWeightGradFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
                            int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
    const Geometry q{sh, sw, ph, pw, dh, dw};
    Keep(ctx, x, g, q);
    return WeightGradKernel(x, g, kh, kw, q);
  }
  // gw is bilinear in (x, g): with an incoming gradient ggw (a kernel), ∂/∂g is the forward conv
  // of x with ggw, and ∂/∂x is the input gradient of that conv applied to g.
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto [x, g, q] = Restore(ctx);
    const at::Tensor& ggw = grads[0];
    at::Tensor gx, gg;
    if (ctx->needs_input_grad(0)) gx = InputGrad(g, ggw, q, x.size(2), x.size(3));
    if (ctx->needs_input_grad(1)) gg = Conv(x, ggw, q);
    return {gx, gg, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

// The input gradient of a strided depthwise conv as one Function: gx = T(g, w), linear in each.
// With an incoming gradient ggx (an input-sized tensor), ⟨T(g, w), ggx⟩ = ⟨g, conv(ggx, w)⟩, so
// ∂/∂g is the forward conv of ggx and ∂/∂w the weight gradient of that conv against g: both
// differentiable again.
struct DwInputGradFn : public torch::autograd::Function<DwInputGradFn> {
  static at::Tensor forward(AutogradContext* ctx, const at::Tensor& g, const at::Tensor& w, int64_t sh, int64_t sw, int64_t ph, int64_t pw,
                            int64_t dh, int64_t dw, int64_t H, int64_t W) {
    const Geometry q{sh, sw, ph, pw, dh, dw};
    Keep(ctx, g, w, q);
    return SpreadKernel(g, w.flip({2, 3}), q, H, W);
  }
  static tensor_list backward(AutogradContext* ctx, tensor_list grads) {
    const auto [g, w, q] = Restore(ctx);
    const at::Tensor& ggx = grads[0];
    at::Tensor gg, gw;
    if (ctx->needs_input_grad(0)) gg = Conv(ggx, w, q);
    if (ctx->needs_input_grad(1)) gw = WeightGrad(ggx, g, w.size(2), w.size(3), q);
    return {gg, gw, at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor(), at::Tensor()};
  }
};

at::Tensor SpreadInputGrad(const at::Tensor& g, const at::Tensor& w, const Geometry& q, int64_t H, int64_t W) {
  return DwInputGradFn::apply(g, w, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw, H, W);
}

at::Tensor Conv(const at::Tensor& x, const at::Tensor& w, const Geometry& q) {
  return DwConvFn::apply(x, w, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw);
}

at::Tensor WeightGrad(const at::Tensor& x, const at::Tensor& g, int64_t kh, int64_t kw, const Geometry& q) {
  return DwWeightGradFn::apply(x, g, kh, kw, q.sh, q.sw, q.ph, q.pw, q.dh, q.dw);
}

int64_t At(at::IntArrayRef a, size_t i) { return a.size() == 1 ? a[0] : a[i]; }

}  // namespace

bool DepthwiseNativeEnabled() { return g_enabled.load(); }
void SetDepthwiseNativeEnabled(bool on) { g_enabled.store(on); }
int64_t DepthwiseKernelCalls() { return g_calls.load(); }

bool DepthwiseEligible(const at::Tensor& x, const at::Tensor& w, bool hasBias, at::IntArrayRef stride, at::IntArrayRef padding,
                       at::IntArrayRef dilation, int64_t groups) {
  if (hasBias || x.dim() != 4 || w.dim() != 4 || !x.device().is_cpu() || !w.device().is_cpu()) return false;
  if (x.scalar_type() != w.scalar_type() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  const int64_t C = x.size(1);
  if (groups != C || w.size(0) != C || w.size(1) != 1) return false;
  if (stride.empty() || padding.empty() || dilation.empty()) return false;
  for (size_t i = 0; i < 2; i++) {
    const int64_t k = w.size(2 + static_cast<int64_t>(i));
    const int64_t s = At(stride, i), p = At(padding, i), d = At(dilation, i);
    const int64_t n = x.size(2 + static_cast<int64_t>(i));
    if (k > kMaxKernel || s < 1 || p < 0 || d < 1 || (k - 1) * d - p < 0) return false;
    if (n + 2 * p - (k - 1) * d < 1) return false;  // an empty output: libtorch reports it
  }
  return true;
}

at::Tensor DepthwiseConv2d(const at::Tensor& x, const at::Tensor& w, at::IntArrayRef stride, at::IntArrayRef padding, at::IntArrayRef dilation) {
  return Conv(x, w, {At(stride, 0), At(stride, 1), At(padding, 0), At(padding, 1), At(dilation, 0), At(dilation, 1)});
}

bool AvgPoolEligible(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding) {
  if (x.dim() != 4 || !x.device().is_cpu() || (x.scalar_type() != at::kFloat && x.scalar_type() != at::kDouble)) return false;
  if (kernel.empty() || stride.empty() || padding.empty()) return false;
  for (size_t i = 0; i < 2; i++) {
    const int64_t k = At(kernel, i), s = At(stride, i), p = At(padding, i), n = x.size(2 + static_cast<int64_t>(i));
    if (k < 1 || k > kMaxKernel || s < 1 || p < 0 || 2 * p > k || n + 2 * p < k) return false;
  }
  return true;
}

at::Tensor AvgPool2d(const at::Tensor& x, at::IntArrayRef kernel, at::IntArrayRef stride, at::IntArrayRef padding, bool countIncludePad) {
  const int64_t C = x.size(1), kh = At(kernel, 0), kw = At(kernel, 1);
  const Geometry q{At(stride, 0), At(stride, 1), At(padding, 0), At(padding, 1), 1, 1};
  const at::Tensor ones = at::ones({C, 1, kh, kw}, x.options());
  const at::Tensor sum = Conv(x, ones, q);
  if (countIncludePad) return sum.div(static_cast<double>(kh * kw));
  // the number of input elements under each window: the same convolution of an all-ones image
  at::Tensor count;
  {
    at::NoGradGuard noGrad;
    count = at::conv2d(at::ones({1, 1, x.size(2), x.size(3)}, x.options()), at::ones({1, 1, kh, kw}, x.options()), {}, {q.sh, q.sw},
                       {q.ph, q.pw});
  }
  return sum.div(count);
}

}  // namespace rdarts
