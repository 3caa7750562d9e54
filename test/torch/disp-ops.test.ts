/**
 * The engine ops of the disparity space (docs/disparity.md#engine-ops): transposed convolution,
 * bilinear upsampling, leaky ReLU and DispNet-C's 1-D correlation. Values against independent
 * references (plain JS loops, a hand-computed resize), first derivatives against central finite
 * differences in float64, and exact Hessian-vector products (double backward) against finite
 * differences of the gradient, alone and through a small composition of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConvTranspose2d, F, Tensor, grad, manualSeed, randn, tensor, tidy } from '../../src/torch/index.js';
import { maxRelDiff } from '../helpers/kernels.js';

const D64 = { dtype: 'float64' as const };

const arr = (t: Tensor): Float64Array => t.detach().contiguous().toArray() as Float64Array;

// ---------------------------------------------------------------- independent references

/** Transposed convolution as the scatter it is: every input pixel adds its kernel-weighted copy into the output. */
function convTranspose2dReference(
  x: Float64Array,
  [N, Cin, H, W]: number[],
  w: Float64Array,
  [, Cog, KH, KW]: number[],
  bias: Float64Array | null,
  o: { stride: number; padding: number; outputPadding: number; groups: number; dilation: number },
): { y: Float64Array; shape: number[] } {
  const { stride: s, padding: p, outputPadding: op, groups: G, dilation: d } = o;
  const Cig = Cin / G;
  const Cout = Cog * G;
  const Ho = (H! - 1) * s - 2 * p + d * (KH! - 1) + op + 1;
  const Wo = (W! - 1) * s - 2 * p + d * (KW! - 1) + op + 1;
  const y = new Float64Array(N! * Cout * Ho * Wo);
  for (let n = 0; n < N!; n++)
    for (let c = 0; c < Cout; c++) for (let i = 0; i < Ho * Wo; i++) y[(n * Cout + c) * Ho * Wo + i] = bias ? bias[c]! : 0;
  for (let n = 0; n < N!; n++)
    for (let g = 0; g < G; g++)
      for (let ic = 0; ic < Cig; ic++) {
        const ci = g * Cig + ic;
        for (let ih = 0; ih < H!; ih++)
          for (let iw = 0; iw < W!; iw++) {
            const xv = x[((n * Cin! + ci) * H! + ih) * W! + iw]!;
            for (let oc = 0; oc < Cog!; oc++) {
              const co = g * Cog! + oc;
              for (let kh = 0; kh < KH!; kh++) {
                const oh = ih * s - p + kh * d;
                if (oh < 0 || oh >= Ho) continue;
                for (let kw = 0; kw < KW!; kw++) {
                  const ow = iw * s - p + kw * d;
                  if (ow < 0 || ow >= Wo) continue;
                  y[((n * Cout + co) * Ho + oh) * Wo + ow]! += xv * w[((ci * Cog! + oc) * KH! + kh) * KW! + kw]!;
                }
              }
            }
          }
      }
  return { y, shape: [N!, Cout, Ho, Wo] };
}

/** DispNet-C's correlation as a plain loop: out[n, k, y, x] = mean_c a[n,c,y,x]·b[n,c,y,x+k−D], b zero outside. */
export function correlation1dReference(a: Float64Array, b: Float64Array, [N, C, H, W]: number[], D: number): Float64Array {
  const K = 2 * D + 1;
  const out = new Float64Array(N! * K * H! * W!);
  for (let n = 0; n < N!; n++)
    for (let k = 0; k < K; k++)
      for (let y = 0; y < H!; y++)
        for (let x = 0; x < W!; x++) {
          const xb = x + k - D;
          let s = 0;
          if (xb >= 0 && xb < W!) for (let c = 0; c < C!; c++) s += a[((n * C! + c) * H! + y) * W! + x]! * b[((n * C! + c) * H! + y) * W! + xb]!;
          out[((n * K + k) * H! + y) * W! + x] = s / C!;
        }
  return out;
}

// ---------------------------------------------------------------- derivative checks

/**
 * Autograd's gradient of Σ f(inputs)·r w.r.t. each input against central finite differences
 * (float64, every coordinate; the shapes are tiny). Also asserts the gradient is not zero, so
 * the comparison cannot pass on two zeros.
 */
function gradcheck(name: string, f: (xs: Tensor[]) => Tensor, inputs: Tensor[], o: { eps?: number; tol?: number } = {}): void {
  const eps = o.eps ?? 1e-6;
  const tol = o.tol ?? 1e-7;
  tidy(() => {
    const xs = inputs.map((t) => t.detach().clone().requiresGrad_());
    const y0 = f(xs);
    const r = randn(y0.shape, D64);
    const gs = grad(y0.mul(r).sum(), xs) as Tensor[];
    const bases = inputs.map(arr);
    const lossAt = (vals: Float64Array[]) => tidy(() => f(vals.map((v, j) => tensor(v, inputs[j]!.shape))).mul(r).sum().item() as number);
    bases.forEach((base, j) => {
      const ga = arr(gs[j]!);
      const fd = new Float64Array(base.length);
      for (let i = 0; i < base.length; i++) {
        const plus = bases.map((b) => b);
        const minus = bases.map((b) => b);
        plus[j] = Float64Array.from(base);
        plus[j]![i]! += eps;
        minus[j] = Float64Array.from(base);
        minus[j]![i]! -= eps;
        fd[i] = (lossAt(plus) - lossAt(minus)) / (2 * eps);
      }
      const rel = maxRelDiff(ga, fd);
      assert.ok(rel < tol, `${name}: gradient w.r.t. input ${j} differs from finite differences by ${rel} (tolerance ${tol})`);
      assert.ok(Math.max(...fd.map(Math.abs)) > 1e-3, `${name}: gradient w.r.t. input ${j} is ~0, the check would be vacuous`);
    });
  });
}

/**
 * H·v of a scalar loss(θ) by double backward (∇ with createGraph, dot with v, ∇ again) against
 * central differences of the gradient along v, (∇L(θ+εv) − ∇L(θ−εv)) / 2ε, in float64.
 * Returns the relative error and the size of H·v (the caller asserts both).
 */
function hvpError(loss: (xs: Tensor[]) => Tensor, inputs: Tensor[], eps = 1e-6): { rel: number; size: number } {
  return tidy(() => {
    const vs = inputs.map((t) => randn(t.shape, D64));
    const xs = inputs.map((t) => t.detach().clone().requiresGrad_());
    const gs = grad(loss(xs), xs, { createGraph: true }) as Tensor[];
    let dot = gs[0]!.mul(vs[0]!).sum();
    for (let j = 1; j < gs.length; j++) dot = dot.add(gs[j]!.mul(vs[j]!).sum());
    // an input that enters the loss linearly only (a bias) has no second derivative: zeros
    const hv = grad(dot, xs, { allowUnused: true }).map((h, j) => (h ? arr(h) : new Float64Array(inputs[j]!.numel())));
    const gradAt = (sign: number) =>
      tidy(() => {
        const ys = inputs.map((t, j) => t.detach().add(vs[j]!, sign * eps).requiresGrad_());
        return (grad(loss(ys), ys) as Tensor[]).map(arr);
      });
    const gp = gradAt(1);
    const gm = gradAt(-1);
    const exact = hv.flatMap((h) => [...h]);
    const fd = gp.flatMap((g, j) => [...g].map((v, i) => (v - gm[j]![i]!) / (2 * eps)));
    return { rel: maxRelDiff(exact, fd), size: Math.max(...fd.map(Math.abs)) };
  });
}

// ---------------------------------------------------------------- convTranspose2d

test('convTranspose2d: kernel 4, stride 2, padding 1 (AutoDispNet upsampling) doubles H and W and equals a scatter loop', () => {
  manualSeed(11);
  tidy(() => {
    const x = randn([2, 3, 3, 5], D64);
    const w = randn([3, 4, 4, 4], D64);
    const b = randn([4], D64);
    const y = F.convTranspose2d(x, w, b, { stride: 2, padding: 1 });
    assert.deepEqual(y.shape, [2, 4, 6, 10]);
    const ref = convTranspose2dReference(arr(x), x.shape, arr(w), w.shape, arr(b), { stride: 2, padding: 1, outputPadding: 0, groups: 1, dilation: 1 });
    assert.deepEqual(ref.shape, y.shape);
    assert.ok(maxRelDiff(arr(y), ref.y) < 1e-12, `convTranspose2d vs scatter loop: ${maxRelDiff(arr(y), ref.y)}`);
  });
});

test('convTranspose2d: groups 2, outputPadding 1, dilation 2, stride 3, no bias equals the scatter loop', () => {
  manualSeed(12);
  tidy(() => {
    const x = randn([1, 4, 3, 2], D64);
    const w = randn([4, 3, 2, 3], D64); // Cin 4, Cout/groups 3 → Cout 6
    const o = { stride: 3, padding: 1, outputPadding: 1, groups: 2, dilation: 2 };
    const y = F.convTranspose2d(x, w, null, o);
    const ref = convTranspose2dReference(arr(x), x.shape, arr(w), w.shape, null, o);
    assert.deepEqual(y.shape, ref.shape);
    // (in − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1: H (3−1)·3 − 2 + 2·1 + 2 = 8, W (2−1)·3 − 2 + 2·2 + 2 = 7
    assert.deepEqual(y.shape, [1, 6, 8, 7]);
    assert.ok(maxRelDiff(arr(y), ref.y) < 1e-12, `grouped convTranspose2d vs scatter loop: ${maxRelDiff(arr(y), ref.y)}`);
  });
});

test('convTranspose2d: gradients w.r.t. input, weight and bias equal finite differences (float64), plain and grouped', () => {
  manualSeed(13);
  gradcheck('convTranspose2d k4 s2 p1', ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1 }), [
    randn([1, 2, 2, 3], D64),
    randn([2, 3, 4, 4], D64),
    randn([3], D64),
  ]);
  gradcheck('convTranspose2d grouped', ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1, outputPadding: 1, groups: 2, dilation: 1 }), [
    randn([1, 4, 2, 2], D64),
    randn([4, 1, 3, 3], D64),
    randn([2], D64),
  ]);
});

test('ConvTranspose2d layer: PyTorch parameter names and layout, fan_in from weight dim 1, forward = F.convTranspose2d', () => {
  manualSeed(14);
  tidy(() => {
    // inChannels 2, outChannels 16: fan_in = 16·4·4 = 256 (dim 1), bound 1/16; dim 0 would give 1/√32
    const m = new ConvTranspose2d(2, 16, 4, { stride: 2, padding: 1 });
    assert.deepEqual(
      [...m.namedParameters()].map(([k, p]) => [k, p.shape]),
      [
        ['weight', [2, 16, 4, 4]],
        ['bias', [16]],
      ],
    );
    const bound = 1 / 16;
    const wMax = Math.max(...arr(m.weight.to('float64')).map(Math.abs));
    assert.ok(wMax <= bound && wMax > 0.9 * bound, `weight max |w| ${wMax}, expected just under ${bound}`);
    const bMax = Math.max(...arr(m.bias!.to('float64')).map(Math.abs));
    assert.ok(bMax <= bound && bMax > 0.5 * bound, `bias max |b| ${bMax}, expected ≤ ${bound} and near it`);
    const x = randn([1, 2, 3, 4]);
    const y = m.forward(x);
    assert.deepEqual(y.shape, [1, 16, 6, 8]);
    assert.ok(maxRelDiff(arr(y.to('float64')), arr(F.convTranspose2d(x, m.weight, m.bias, { stride: 2, padding: 1 }).to('float64'))) === 0);
    const g = new ConvTranspose2d(4, 6, 3, { groups: 2, bias: false });
    assert.deepEqual(g.weight.shape, [4, 3, 3, 3]);
    assert.equal(g.bias, null);
    assert.throws(() => new ConvTranspose2d(3, 4, 3, { groups: 2 }), /divisible by groups/);
  });
});

// ---------------------------------------------------------------- upsampleBilinear2d

test('upsampleBilinear2d: 2×2 → 4×4 with align_corners false equals the hand-computed resize', () => {
  tidy(() => {
    const x = tensor([[[[1, 2], [4, 8]]]], D64);
    // 1-D weights for out = 4, in = 2: source (i + ½)/2 − ½ = −¼ (clamped to 0), ¼, ¾, 1¼ (clamped to the last pixel)
    // → rows/columns [1, 0], [¾, ¼], [¼, ¾], [0, 1]
    const expected = [1, 1.25, 1.75, 2, 1.75, 2.1875, 3.0625, 3.5, 3.25, 4.0625, 5.6875, 6.5, 4, 5, 7, 8];
    const y = F.upsampleBilinear2d(x, [4, 4]);
    assert.deepEqual(y.shape, [1, 1, 4, 4]);
    assert.deepEqual([...arr(y)], expected);
    // align_corners true samples the corners exactly: (i)·(in−1)/(out−1) = 0, ⅓, ⅔, 1
    const yc = F.upsampleBilinear2d(x, [4, 4], true);
    const third = [1, 2 / 3, 1 / 3, 0];
    const exp2: number[] = [];
    const xv = [1, 2, 4, 8];
    for (let i = 0; i < 4; i++)
      for (let j = 0; j < 4; j++) {
        const [ri, rj] = [third[i]!, third[j]!];
        exp2.push(ri * rj * xv[0]! + ri * (1 - rj) * xv[1]! + (1 - ri) * rj * xv[2]! + (1 - ri) * (1 - rj) * xv[3]!);
      }
    assert.ok(maxRelDiff(arr(yc), exp2) < 1e-14);
  });
});

test('upsampleBilinear2d: gradient equals finite differences (float64), non-square and both corner modes', () => {
  manualSeed(15);
  gradcheck('upsampleBilinear2d 2×3 → 5×4', ([x]) => F.upsampleBilinear2d(x!, [5, 4]), [randn([1, 2, 2, 3], D64)]);
  gradcheck('upsampleBilinear2d align corners 3×2 → 4×7', ([x]) => F.upsampleBilinear2d(x!, [4, 7], true), [randn([2, 1, 3, 2], D64)]);
});

// ---------------------------------------------------------------- leakyRelu

test('leakyRelu: values, default slope 0.1, and gradient equals finite differences (float64)', () => {
  tidy(() => {
    const x = tensor([-2, -0.5, 0.25, 3], D64);
    assert.deepEqual([...arr(F.leakyRelu(x))], [-0.2, -0.05, 0.25, 3]);
    assert.deepEqual([...arr(F.leakyRelu(x, 0.2))], [-0.4, -0.1, 0.25, 3]);
  });
  manualSeed(16);
  // keep every coordinate at least 0.1 from the kink so ±ε never crosses it
  const x = tidy(() => {
    const r = randn([2, 3, 3, 3], D64);
    return r.add(r.sign().mul(0.1));
  });
  gradcheck('leakyRelu 0.1', ([t]) => F.leakyRelu(t!), [x]);
  gradcheck('leakyRelu 0.3', ([t]) => F.leakyRelu(t!, 0.3), [x]);
});

// ---------------------------------------------------------------- correlation1d

test('correlation1d: equals the loop reference, channel k is displacement k − D, b zero outside its width', () => {
  manualSeed(17);
  tidy(() => {
    const shape = [2, 3, 2, 5];
    const a = randn(shape, D64);
    const b = randn(shape, D64);
    for (const D of [0, 1, 3, 6]) {
      // D = 6 > W − 1: some planes see only padding
      const y = F.correlation1d(a, b, D);
      assert.deepEqual(y.shape, [2, 2 * D + 1, 2, 5]);
      const ref = correlation1dReference(arr(a), arr(b), shape, D);
      assert.ok(maxRelDiff(arr(y), ref) < 1e-14, `D=${D}: ${maxRelDiff(arr(y), ref)}`);
    }
    // a hand example: one channel, one row; a = [1, 2, 3], b = [10, 20, 30], D = 1
    // δ = −1: [0·1, 10·2, 20·3]; δ = 0: [10, 40, 90]; δ = +1: [20·1, 30·2, 0]
    const h = F.correlation1d(tensor([[[[1, 2, 3]]]], D64), tensor([[[[10, 20, 30]]]], D64), 1);
    assert.deepEqual([...arr(h)], [0, 20, 60, 10, 40, 90, 20, 60, 0]);
    // a stereo pair: the right view is the left shifted by disparity 2 (right x = left x − 2); the
    // left pixel's best match is channel k = D − d
    const left = randn([1, 32, 1, 9], D64);
    const right = left.narrow(3, 2, 7).pad([0, 2]); // right[x] = left[x + 2]
    const c = F.correlation1d(left, right, 3);
    const best = arr(c.argmax(1).to('float64'));
    for (let x = 2; x < 9; x++) assert.equal(best[x], 3 - 2, `left x=${x}: best channel ${best[x]}`);
    assert.throws(() => F.correlation1d(a, b.narrow(3, 0, 4), 1), /one shape/);
    assert.throws(() => F.correlation1d(a, b, 1.5), /non-negative integer/);
  });
});

test('correlation1d: gradients w.r.t. both inputs equal finite differences (float64)', () => {
  manualSeed(18);
  gradcheck('correlation1d D=2', ([a, b]) => F.correlation1d(a!, b!, 2), [randn([2, 3, 2, 4], D64), randn([2, 3, 2, 4], D64)]);
  gradcheck('correlation1d D=0', ([a, b]) => F.correlation1d(a!, b!, 0), [randn([1, 2, 3, 3], D64), randn([1, 2, 3, 3], D64)]);
});

// ---------------------------------------------------------------- second order

test('double backward of each op: exact H·v equals finite differences of the gradient (float64)', () => {
  manualSeed(19);
  const rConvT = randn([1, 3, 4, 6], D64);
  const rUp = randn([1, 2, 5, 4], D64);
  const rLeaky = randn([2, 3, 4], D64);
  const rCorr = randn([1, 5, 2, 4], D64);
  const cases: Array<[string, (xs: Tensor[]) => Tensor, Tensor[]]> = [
    // convT is bilinear in (x, w): the x–w block of the Hessian is what double backward must give
    ['convTranspose2d', ([x, w, b]) => F.convTranspose2d(x!, w!, b!, { stride: 2, padding: 1 }).mul(rConvT).sum(), [randn([1, 2, 2, 3], D64), randn([2, 3, 4, 4], D64), randn([3], D64)]],
    // the upsample is linear: square it so the loss has curvature through upsample's backward
    ['upsampleBilinear2d', ([x]) => F.upsampleBilinear2d(x!, [5, 4]).square().mul(rUp).sum(), [randn([1, 2, 2, 3], D64)]],
    // leaky ReLU squared: H = 2·diag(r·slope'²), slope² on the negative side
    ['leakyRelu', ([x]) => F.leakyRelu(x!).square().mul(rLeaky).sum(), [tidy(() => { const r = randn([2, 3, 4], D64); return r.add(r.sign().mul(0.1)); })]],
    // correlation is bilinear in (a, b)
    ['correlation1d', ([a, b]) => F.correlation1d(a!, b!, 2).mul(rCorr).sum(), [randn([1, 3, 2, 4], D64), randn([1, 3, 2, 4], D64)]],
  ];
  for (const [name, loss, inputs] of cases) {
    const { rel, size } = hvpError(loss, inputs);
    assert.ok(size > 1e-3, `${name}: H·v is ~0, the check would be vacuous`);
    assert.ok(rel < 1e-6, `${name}: exact H·v vs finite differences relative error ${rel}`);
  }
});

test('an exact HVP through correlation → leakyRelu → convTranspose2d → upsample matches finite differences of the gradient (float64)', () => {
  manualSeed(20);
  // θ = (p, q, w, b): a = tanh(p), b = sin(q) stand in for the two views' features
  const theta = [randn([1, 3, 3, 4], D64), randn([1, 3, 3, 4], D64), randn([5, 2, 4, 4], D64).mul(0.5), randn([2], D64)];
  const r = randn([1, 2, 6, 8], D64);
  const s = randn([1, 2, 7, 9], D64);
  const D = 2;
  const loss = ([p, q, w, b]: Tensor[]) => {
    const corr = F.correlation1d(p!.tanh(), q!.sin(), D);
    const y = F.convTranspose2d(F.leakyRelu(corr), w!, b!, { stride: 2, padding: 1 });
    // Σ r·y plus a squared upsampled term, so the w–w block has curvature as well
    return y.mul(r).sum().add(F.upsampleBilinear2d(y, [7, 9]).square().mul(s).sum());
  };
  // precondition: every correlation value lies away from leaky ReLU's kink, so ±εv crosses none
  // (the exact zeros are the displacements that reach b's zero padding: constant in θ, Σ|δ| = 6 per row)
  const corr0 = tidy(() => arr(F.correlation1d(theta[0]!.tanh(), theta[1]!.sin(), D)));
  const nonzero = corr0.filter((v) => v !== 0);
  assert.equal(corr0.length - nonzero.length, 6 * 3);
  const minAbs = Math.min(...nonzero.map(Math.abs));
  assert.ok(minAbs > 1e-4, `a correlation value (${minAbs}) sits at the kink; pick another seed`);
  const { rel, size } = hvpError(loss, theta);
  assert.ok(size > 1e-2, `H·v is ~0 (${size}), the check would be vacuous`);
  assert.ok(rel < 1e-6, `exact H·v vs finite differences relative error ${rel}`);
});
