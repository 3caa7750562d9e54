/**
 * Gradients of the recurrent search model in float64 on a tiny model, in train mode (batch-statistics
 * batch norm, every dropout on, embedding dropout included), the masks fixed by re-seeding before
 * each evaluation: ∇α L against central differences, exact α-HVPs (double backward) against
 * differences of ∇α L, the mixed product ∇α(∇w L·v) (double backward through the embedding, the
 * masks and the tied decoder) against differences, and Lanczos against the full Hessian.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { RNN_PRIMITIVES, RnnSearchModel, numRnnEdges } from '../../src/nas/rnn/index.js';
import { AlphaHessian, dominantEigenvalues } from '../../src/analysis/hessian.js';
import { symmetricEigen } from '../../src/analysis/eigen.js';
import { Rng } from '../../src/util/rng.js';

pinTestThreads();

const MASK_SEED = 123;

/**
 * A tiny float64 search model in train mode: 6 words, 3 units, batch 6 (batch norm over 2 samples
 * would map every feature to ±1 and leave α almost without effect), 2 time steps; `steps` nodes
 * (8 = DARTS' α [36, 5]; fewer for the full-Hessian test).
 */
function setup(steps = 8): { m: RnnSearchModel; x: Tensor; y: Tensor; h0: Tensor; loss: () => Tensor } {
  manualSeed(21);
  const space = { steps, ops: RNN_PRIMITIVES };
  const m = new RnnSearchModel({ vocabSize: 6, hiddenSize: 3, space, dropout: 0.3, dropouth: 0.2, dropoutx: 0.3, dropouti: 0.2, dropoute: 0.2 }).to('float64');
  noGrad(() => m.weightParameters().forEach((p) => p.mul_(12))); // weights of order 0.5: curvature well above rounding
  const r = new Rng(4);
  const E = numRnnEdges(steps);
  m.setAlpha(Array.from({ length: E }, () => Array.from({ length: 5 }, () => 0.7 * r.normal())));
  const x = keep(tensor([[0, 3, 1, 4, 2, 5], [5, 1, 1, 0, 3, 2]], { dtype: 'int64' }));
  const y = keep(tensor([[5, 1, 1, 0, 3, 2], [2, 2, 4, 3, 0, 1]], { dtype: 'int64' }));
  const h0 = keep(noGrad(() => tensor(Float64Array.from({ length: 18 }, (_, i) => 0.4 * Math.sin(i + 1)), [1, 6, 3])));
  m.train();
  const loss = () => {
    manualSeed(MASK_SEED); // the same dropout masks at every evaluation
    return m.loss(x, y, h0).loss;
  };
  return { m, x, y, h0, loss };
}

function flatAlpha(m: RnnSearchModel): number[] {
  return m.alphaValues().flat();
}
function setFlatAlpha(m: RnnSearchModel, v: number[]): void {
  m.setAlpha(Array.from({ length: v.length / 5 }, (_, e) => v.slice(e * 5, e * 5 + 5)));
}

test('∇α of the loss (train mode, masks fixed) equals central finite differences', () => {
  const { m, loss } = setup();
  const g = tidy(() => (grad(loss(), m.archParameters()) as Tensor[])[0]!.toNumbers());
  assert.equal(g.length, 180);
  const base = flatAlpha(m);
  const lossAt = (v: number[]) => {
    setFlatAlpha(m, v);
    return tidy(() => noGrad(() => loss().item()));
  };
  const eps = 1e-6;
  const r = new Rng(8);
  // 25 random coordinates and 3 random directions
  const coords = Array.from({ length: 25 }, () => r.int(180));
  let worst = 0;
  for (const i of coords) {
    const p = [...base];
    const q = [...base];
    p[i]! += eps;
    q[i]! -= eps;
    const fd = (lossAt(p) - lossAt(q)) / (2 * eps);
    // relative to the entry, floored at 1e-3 (a difference quotient of a loss ≈ 2 carries ≈ 1e-10 of rounding)
    worst = Math.max(worst, Math.abs(fd - g[i]!) / Math.max(1e-3, Math.abs(g[i]!)));
  }
  for (let d = 0; d < 3; d++) {
    const v = Array.from({ length: 180 }, () => r.normal());
    const gv = v.reduce((s, vi, i) => s + vi * g[i]!, 0);
    const fd = (lossAt(base.map((a, i) => a + eps * v[i]!)) - lossAt(base.map((a, i) => a - eps * v[i]!))) / (2 * eps);
    worst = Math.max(worst, Math.abs(fd - gv) / Math.abs(gv));
  }
  setFlatAlpha(m, base);
  const gNorm = Math.sqrt(g.reduce((s, v) => s + v * v, 0));
  assert.ok(gNorm > 1e-4, `the gradient must not vanish (‖g‖ = ${gNorm})`);
  assert.ok(worst < 1e-6, `worst relative error ${worst}`);
  m.dispose();
});

test('exact α-HVP (double backward through tanh, sigmoid, relu, batch norm, masks) equals differences of ∇α L; the Hessian is symmetric', () => {
  const { m, loss } = setup();
  const h = new AlphaHessian(m, loss);
  assert.equal(h.n, 180);
  const r = new Rng(9);
  const v = Float64Array.from({ length: 180 }, () => r.normal());
  const hv = h.hvp(v);
  const base = flatAlpha(m);
  const gradAt = (s: number): number[] => {
    setFlatAlpha(m, base.map((a, i) => a + s * v[i]!));
    return tidy(() => (grad(loss(), m.archParameters()) as Tensor[])[0]!.toNumbers());
  };
  const eps = 1e-6;
  const gp = gradAt(eps);
  const gm = gradAt(-eps);
  setFlatAlpha(m, base);
  let num = 0;
  let den = 0;
  for (let i = 0; i < 180; i++) {
    const fd = (gp[i]! - gm[i]!) / (2 * eps);
    num += (fd - hv[i]!) ** 2;
    den += hv[i]! ** 2;
  }
  assert.ok(den > 1e-6, 'the product must not vanish');
  assert.ok(Math.sqrt(num / den) < 1e-6, `HVP vs finite differences: relative error ${Math.sqrt(num / den)}`);
  const e3 = new Float64Array(180);
  e3[3] = 1;
  const e77 = new Float64Array(180);
  e77[77] = 1;
  const a = h.hvp(e3)[77]!;
  const b = h.hvp(e77)[3]!;
  assert.ok(Math.abs(a - b) <= 1e-10 * Math.max(1, Math.abs(a)), `H[3,77] ${a} vs H[77,3] ${b}`);
  h.dispose();
  m.dispose();
});

test('mixed product ∇α(∇w L · v) by double backward (embedding, masks, tied decoder on the path) equals differences of ∇α L along v in w', () => {
  const { m, loss } = setup();
  const ws = m.weightParameters();
  const r = new Rng(10);
  const vs = ws.map((p) => noGrad(() => keep(tensor(Float64Array.from({ length: p.numel() }, () => r.normal()), p.shape))));
  const exact = tidy(() => {
    const gw = grad(loss(), ws, { createGraph: true }) as Tensor[];
    const dot = gw.map((g, i) => g.mul(vs[i]!).sum()).reduce((s, t) => s.add(t));
    return (grad(dot, m.archParameters()) as Tensor[])[0]!.toNumbers();
  });
  const eps = 1e-6;
  const shift = (s: number) => noGrad(() => ws.forEach((p, i) => p.add_(vs[i]!, s)));
  const gAlpha = () => tidy(() => (grad(loss(), m.archParameters()) as Tensor[])[0]!.toNumbers());
  shift(eps);
  const gp = gAlpha();
  shift(-2 * eps);
  const gm = gAlpha();
  shift(eps);
  let num = 0;
  let den = 0;
  for (let i = 0; i < 180; i++) {
    const fd = (gp[i]! - gm[i]!) / (2 * eps);
    num += (fd - exact[i]!) ** 2;
    den += exact[i]! ** 2;
  }
  assert.ok(den > 1e-6, 'the product must not vanish');
  assert.ok(Math.sqrt(num / den) < 1e-6, `mixed product vs finite differences: relative error ${Math.sqrt(num / den)}`);
  // the embedding weight really is on the double-backward path: its own HVP is non-zero
  const embHv = tidy(() => {
    const [ge] = grad(loss(), [m.encoder.weight], { createGraph: true }) as Tensor[];
    const [hv] = grad(ge!.mul(vs[0]!).sum(), [m.encoder.weight]) as Tensor[];
    return hv!.abs().sum().item();
  });
  assert.ok(embHv > 0, 'embedding HVP is non-zero');
  vs.forEach((t) => t.dispose());
  m.dispose();
});

test('Lanczos on the recurrent α-Hessian (a 4-node cell, α [10, 5]) finds the algebraic max of the full eigendecomposition', async () => {
  const { m, loss } = setup(4);
  const h = new AlphaHessian(m, loss);
  assert.equal(h.n, 50);
  const H = h.full();
  const { values } = symmetricEigen(H, { vectors: false });
  const desc = Array.from(values).reverse();
  const full = await dominantEigenvalues(h, { method: 'full', topK: 3 });
  assert.ok(Math.abs(full.maxEigenvalue - desc[0]!) <= 1e-12 * Math.abs(desc[0]!));
  const lz = await dominantEigenvalues(h, { method: 'lanczos', topK: 1, maxIter: 50, tol: 1e-10, rng: new Rng(1) });
  assert.ok(desc[0]! > 0, `λ_max ${desc[0]} should be positive here`);
  assert.ok(Math.abs(lz.maxEigenvalue - desc[0]!) <= 1e-8 * Math.abs(desc[0]!), `Lanczos ${lz.maxEigenvalue} vs full ${desc[0]}`);
  assert.ok(lz.operatorCalls < 50, `Lanczos needed ${lz.operatorCalls} products`);
  // the spectrum is not degenerate: λ_max stands apart from λ_2
  assert.ok(desc[0]! - desc[1]! > 1e-6 * Math.abs(desc[0]!));
  h.dispose();
  m.dispose();
});
