/**
 * The S6 networks (nas/disp/model.ts): the channel and scale bookkeeping of the AutoDispNet-C
 * macro (derived by hand below), the shapes of the predictions at every scale, the input-size
 * check, the multi-scale EPE on a hand-made example with unknown pixels, the exact α-Hessian-
 * vector product through the whole float64 supernet against finite differences of ∇α L, the
 * discrete forward of a genotype, and the evaluation network of a derived genotype.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { ConfigError, ShapeError } from '../../src/errors.js';
import {
  AUTODISPNET_C_SIZE,
  DispEvalNet,
  DispSupernet,
  defaultScaleWeights,
  dispLayout,
  fullResolutionEpe,
  groundTruthAt,
  maskedEpe,
  multiScaleEpe,
  type DispNetSize,
} from '../../src/nas/disp/model.js';
import { S6_OPS, dispGenotypeToOneHot, geneEdgeOf } from '../../src/nas/disp/genotype.js';
import { AlphaHessian } from '../../src/analysis/hessian.js';
import { generateSyntheticStereo, stereoBatch } from '../../src/data/index.js';
import { Rng } from '../../src/util/rng.js';
import { pinTestThreads } from '../helpers/threads.js';

pinTestThreads();

/** The --mini network (search/disp/config.ts MINI_DISP_OVERRIDES). */
const MINI: DispNetSize = { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2, steps: 2 };

const vals = (t: Tensor): number[] => noGrad(() => tidy(() => t.double().toNumbers()));

test('dispLayout of AutoDispNet-C: levels 6…2, 81 correlation channels, channels by hand', () => {
  const L = dispLayout(AUTODISPNET_C_SIZE);
  // C 18, stem ×2: stems 36 (1/2), 72 (1/4); one feature reduction cell: C 36, 3 nodes → 108 at 1/8
  assert.deepEqual(L.stem, [36, 72]);
  assert.equal(L.featureCells.length, 1);
  assert.deepEqual(L.featureCells[0], { index: 0, reduction: true, reductionPrev: false, Cpp: 72, Cp: 72, C: 36, Cout: 108 });
  // the correlation at 1/8: ±40 px → 81 channels; s0 = [fL, fR] = 216 channels
  assert.equal(L.correlationLevel, 3);
  assert.equal(L.correlationChannels, 81);
  // six encoder cells, every second a reduction: 1/8 → 1/16 → 1/32 → 1/64
  assert.deepEqual(L.encoderCells.map((c) => c.reduction), [false, true, false, true, false, true]);
  assert.deepEqual(L.encoderCells.map((c) => [c.Cpp, c.Cp, c.C, c.Cout]), [
    [216, 81, 36, 108],
    [81, 108, 72, 216],
    [108, 216, 72, 216],
    [216, 216, 144, 432],
    [216, 432, 144, 432],
    [432, 432, 288, 864],
  ]);
  assert.deepEqual(L.encoderCells.map((c) => c.reductionPrev), [false, false, true, false, true, false]);
  assert.equal(L.deepestLevel, 6);
  // four upsampling cells, C halved each time (288 → 144 → 72 → 36 → 18), skip inputs from the left encoder
  assert.deepEqual(L.decoderCells, [
    { Cpp: 864, Cp: 864, Csupport: 432, C: 144, upsamplePrev: false, level: 5 },
    { Cpp: 864, Cp: 432, Csupport: 216, C: 72, upsamplePrev: true, level: 4 },
    { Cpp: 432, Cp: 216, Csupport: 108, C: 36, upsamplePrev: true, level: 3 },
    { Cpp: 216, Cp: 108, Csupport: 72, C: 18, upsamplePrev: true, level: 2 },
  ]);
  assert.deepEqual(L.predictionLevels, [6, 5, 4, 3, 2]);
  assert.deepEqual(L.supportChannels, [3, 36, 72, 108, 216, 432, 864]);
  assert.deepEqual(defaultScaleWeights(5), [1 / 16, 1 / 8, 1 / 4, 1 / 2, 1]);
});

test('dispLayout of the mini size, and its refusals', () => {
  const L = dispLayout(MINI);
  assert.deepEqual(L.stem, [2, 4]);
  assert.deepEqual(L.featureCells.map((c) => [c.Cpp, c.Cp, c.C, c.Cout]), [[4, 4, 4, 8]]);
  assert.equal(L.correlationChannels, 5);
  assert.deepEqual(L.encoderCells.map((c) => [c.reduction, c.Cpp, c.Cp, c.C, c.Cout]), [
    [false, 16, 5, 4, 8],
    [true, 5, 8, 8, 16],
  ]);
  assert.deepEqual(L.decoderCells, [
    { Cpp: 16, Cp: 16, Csupport: 8, C: 4, upsamplePrev: false, level: 3 },
    { Cpp: 16, Cp: 8, Csupport: 4, C: 2, upsamplePrev: true, level: 2 },
  ]);
  assert.deepEqual(L.predictionLevels, [4, 3, 2]);
  assert.equal(L.deepestLevel, 4);
  assert.throws(() => dispLayout({ ...MINI, decoderDepth: 5 }), (e: unknown) => e instanceof ConfigError && /decoderDepth 5 exceeds the 4 downsamplings/.test(e.message));
  assert.throws(() => dispLayout({ ...MINI, C: 0 }), (e: unknown) => e instanceof ConfigError && /C must be an integer ≥ 1/.test(e.message));
  assert.equal(dispLayout({ ...MINI, maxDisplacement: 0 }).correlationChannels, 1);
});

test('supernet shapes: one prediction per level, [N, 1, H/2^l, W/2^l]; the input check names the multiple', () => {
  manualSeed(1);
  const m = new DispSupernet(MINI);
  try {
    assert.deepEqual(m.archParameters().map((a) => a.shape), [[5, 8], [5, 8], [9, 8]]);
    assert.equal(m.numArchParameters(), 19 * 8);
    tidy(() => {
      for (const [N, H, W] of [[2, 16, 32], [1, 32, 64]] as const) {
        const x = tensor(new Float32Array(N * 6 * H * W).map((_, i) => Math.sin(i)), [N, 6, H, W]);
        const preds = m.forward(x);
        assert.deepEqual(preds.map((p) => p.shape), [4, 3, 2].map((l) => [N, 1, H / 2 ** l, W / 2 ** l]));
      }
      const bad = tensor(new Float32Array(6 * 24 * 32), [1, 6, 24, 32]);
      assert.throws(() => m.forward(bad), (e: unknown) => e instanceof ShapeError && /multiples of 16 \(2\^4\), got 24×32/.test(e.message));
      assert.throws(() => m.forward(tensor(new Float32Array(3 * 16 * 16), [1, 3, 16, 16])), (e: unknown) => e instanceof ShapeError && /\[N, 6, H, W\]/.test(e.message));
    });
  } finally {
    m.dispose();
  }
});

// y [1, 1, 4, 4]; NaN = unknown
const NAN = Number.NaN;
const Y = [2, 4, NAN, NAN, 6, NAN, NAN, NAN, 1, 1, 8, 0, 1, 1, 4, 4];

test('multi-scale EPE on a hand-made example with unknown pixels', () => {
  tidy(() => {
    const y = tensor(Float32Array.from(Y), [1, 1, 4, 4]).double();
    // level 1: 2×2 blocks, mean of the finite values / 2; the all-NaN block is masked out
    const g1 = groundTruthAt(y, 1);
    assert.deepEqual(g1.gt.shape, [1, 1, 2, 2]);
    assert.deepEqual(vals(g1.gt), [(2 + 4 + 6) / 3 / 2, 0, 1 / 2, (8 + 0 + 4 + 4) / 4 / 2]);
    assert.deepEqual(vals(g1.mask), [1, 0, 1, 1]);
    // level 2: one block, 11 finite values summing to 32, / 4
    const g2 = groundTruthAt(y, 2);
    assert.ok(Math.abs(vals(g2.gt)[0]! - 32 / 11 / 4) < 1e-12);
    assert.deepEqual(vals(g2.mask), [1]);
    // level 0: y itself where finite
    const g0 = groundTruthAt(y, 0);
    assert.deepEqual(vals(g0.mask), Y.map((v) => (Number.isNaN(v) ? 0 : 1)));
    assert.deepEqual(vals(g0.gt), Y.map((v) => (Number.isNaN(v) ? 0 : v)));

    const p1 = tensor(Float64Array.from([3, 100, 0.5, 1]), [1, 1, 2, 2]);
    const p2 = tensor(Float64Array.from([1]), [1, 1, 1, 1]);
    // |3 − 2| + (masked) + |0.5 − 0.5| + |1 − 2| over 3 valid blocks
    const e1 = maskedEpe(p1, g1.gt, g1.mask).item();
    assert.ok(Math.abs(e1 - 2 / 3) < 1e-12, `EPE_1 ${e1}`);
    const e2 = maskedEpe(p2, g2.gt, g2.mask).item();
    assert.ok(Math.abs(e2 - (1 - 8 / 11)) < 1e-12, `EPE_2 ${e2}`);
    assert.equal(maskedEpe(p1, g1.gt, g1.gt.mul(0)).item(), 0, 'an empty mask gives 0');
    // predictions coarse → fine, default weights ½ (coarse), 1 (fine)
    const loss = multiScaleEpe([p2, p1], [2, 1], y).item();
    assert.ok(Math.abs(loss - (0.5 * (3 / 11) + 2 / 3)) < 1e-12, `loss ${loss}`);
    const weighted = multiScaleEpe([p2, p1], [2, 1], y, [2, 0.25]).item();
    assert.ok(Math.abs(weighted - (2 * (3 / 11) + 0.25 * (2 / 3))) < 1e-12);
    assert.throws(() => multiScaleEpe([p2, p1], [2], y), ShapeError);

    // full resolution: p1 upsampled ×2 bilinearly (align_corners false: rows/columns 0, ¾·0 + ¼·1, ¼·0 + ¾·1, 1), doubled, vs y where finite
    const M = [[1, 0], [0.75, 0.25], [0.25, 0.75], [0, 1]];
    const P = [[3, 100], [0.5, 1]];
    let sum = 0;
    let count = 0;
    for (let i = 0; i < 4; i++) {
      for (let j = 0; j < 4; j++) {
        const yv = Y[4 * i + j]!;
        if (Number.isNaN(yv)) continue;
        let up = 0;
        for (let a = 0; a < 2; a++) for (let b = 0; b < 2; b++) up += M[i]![a]! * M[j]![b]! * P[a]![b]!;
        sum += Math.abs(2 * up - yv);
        count++;
      }
    }
    const full = fullResolutionEpe(p1, 1, y);
    assert.equal(full.count, 11);
    assert.equal(count, 11);
    assert.ok(Math.abs(full.sum - sum) < 1e-9, `full-resolution error sum ${full.sum} vs ${sum}`);
    const same = fullResolutionEpe(g0.gt, 0, y);
    assert.deepEqual(same, { sum: 0, count: 11 });
  });
});

/** Two synthetic 16×32 stereo pairs as float64 tensors (kept). */
function stereoPairs(): { x: Tensor; y: Tensor } {
  const ds = generateSyntheticStereo({ n: 2, height: 16, width: 32, maxDisparity: 4, seed: 3 });
  const b = stereoBatch(ds, [0, 1], {}, new Rng(0));
  return {
    x: keep(tidy(() => tensor(b.x, b.shape).double())),
    y: keep(tidy(() => tensor(b.y, [2, 1, 16, 32]).double())),
  };
}

test('float64: the exact α-Hessian-vector product through the whole supernet equals central differences of ∇α L', () => {
  manualSeed(4);
  const m = new DispSupernet(MINI).to('float64');
  const { x, y } = stereoPairs();
  try {
    // train mode: batch norm uses the batch statistics (deterministic; no dropout in S6), the search's mode
    m.train();
    const r = new Rng(11);
    const n = m.numArchParameters();
    const base = Float64Array.from({ length: n }, () => 0.5 * r.normal());
    const setAlpha = (flat: Float64Array): void =>
      noGrad(() =>
        tidy(() => {
          const parts = m.archFromVector(tensor(flat));
          m.archParameters().forEach((a, i) => a.copy_(parts[i]!));
        }),
      );
    setAlpha(base);
    const loss = () => m.loss(x, y);
    const h = new AlphaHessian(m, loss);
    assert.equal(h.n, 152);
    const v = Float64Array.from({ length: n }, (_, i) => Math.sin(0.37 * i + 1));
    const hv = h.hvp(v);
    h.dispose();
    const gradAt = (eps: number): number[] =>
      tidy(() => {
        setAlpha(base.map((a, i) => a + eps * v[i]!));
        const g = grad(loss(), m.archParameters()) as Tensor[];
        return m.archVector(g).toNumbers();
      });
    // the loss has kinks (|·| of the EPE, ReLU / leaky ReLU, max pooling): a 1e-6 step in float64
    // crosses none of them at this seed, so the central difference is accurate to O(ε²) + rounding
    const eps = 1e-6;
    const gp = gradAt(eps);
    const gm = gradAt(-eps);
    let num = 0;
    let den = 0;
    for (let i = 0; i < n; i++) {
      num += ((gp[i]! - gm[i]!) / (2 * eps) - hv[i]!) ** 2;
      den += hv[i]! ** 2;
    }
    assert.ok(den > 1e-8, `the product must not vanish (|Hv|² = ${den})`);
    // every cell type takes part: some curvature in each α block
    const blocks = [[0, 40], [40, 80], [80, 152]].map(([a, b]) => Math.hypot(...hv.slice(a, b)));
    assert.ok(blocks.every((s) => s > 1e-6), `|Hv| per α block ${blocks.join(', ')}`);
    const rel = Math.sqrt(num / den);
    assert.ok(rel < 1e-6, `relative error ${rel}`); // 9e-10 here
  } finally {
    x.dispose();
    y.dispose();
    m.dispose();
  }
});

test('discrete forward: one-hot weights of a genotype ignore every op the genotype drops', () => {
  manualSeed(6);
  const m = new DispSupernet(MINI);
  const x = keep(tensor(new Float32Array(2 * 6 * 16 * 32).map((_, i) => Math.cos(0.1 * i)), [2, 6, 16, 32]));
  try {
    m.eval();
    const g = m.genotype();
    const dw = m.discreteWeights(g);
    const oh = dispGenotypeToOneHot(g);
    assert.deepEqual(vals(dw.upsample), oh.upsample.flat());
    const before = noGrad(() => tidy(() => m.forward(x, { weights: dw }).map(vals)));
    const soft = noGrad(() => tidy(() => m.forward(x).map(vals)));
    // a dropped edge of the first upsampling cell, and a dropped op on a kept edge
    const kept = new Set(g.upsample.map(([, j], i) => geneEdgeOf('upsample', i, j).edge));
    const dropped = [...Array(9).keys()].find((e) => !kept.has(e))!;
    assert.ok(dropped !== undefined);
    const [op0, src0] = g.upsample[0]!;
    const otherOp = S6_OPS.findIndex((o) => o !== op0 && o.startsWith('sep_conv'));
    const cell = m.decoderCells.items[0]!;
    noGrad(() => {
      for (const p of cell.edges.items[dropped]!.parameters()) p.add_(1);
      for (const p of cell.edges.items[src0]!.ops.items[otherOp]!.parameters()) p.add_(1);
    });
    const after = noGrad(() => tidy(() => m.forward(x, { weights: dw }).map(vals)));
    assert.deepEqual(after, before, 'the dropped ops do not reach the discrete predictions');
    const softAfter = noGrad(() => tidy(() => m.forward(x).map(vals)));
    assert.notDeepEqual(softAfter.at(-1), soft.at(-1), 'while the mixed (softmax) forward sees them');
    // the kept op does reach them (at this seed it is a dil conv, with weights to move)
    assert.equal(op0, 'dil_conv_3x3');
    const ps = cell.edges.items[src0]!.ops.items[S6_OPS.indexOf(op0)]!.parameters();
    assert.ok(ps.length > 0);
    noGrad(() => ps.forEach((p) => p.add_(1)));
    const changed = noGrad(() => tidy(() => m.forward(x, { weights: dw }).map(vals)));
    assert.notDeepEqual(changed.at(-1), before.at(-1));
  } finally {
    x.dispose();
    m.dispose();
  }
});

test('the evaluation network of a derived genotype: same prediction levels, fewer parameters than the supernet', () => {
  manualSeed(7);
  const sup = new DispSupernet(MINI);
  const g = sup.genotype();
  const { steps: _s, ...size } = MINI;
  const net = new DispEvalNet(g, size);
  try {
    assert.equal(net.size.steps, 2);
    assert.deepEqual(net.layout, sup.layout);
    assert.ok(net.numParameters() > 0);
    assert.ok(net.numParameters() < sup.numParameters(), `${net.numParameters()} vs ${sup.numParameters()}`);
    tidy(() => {
      const x = tensor(new Float32Array(2 * 6 * 16 * 32).map((_, i) => Math.sin(0.3 * i)), [2, 6, 16, 32]);
      const preds = net.forward(x);
      assert.deepEqual(preds.map((p) => p.shape), [[2, 1, 1, 2], [2, 1, 2, 4], [2, 1, 4, 8]]);
      const ds = generateSyntheticStereo({ n: 2, height: 16, width: 32, maxDisparity: 4, seed: 1 });
      const b = stereoBatch(ds, [0, 1], {}, new Rng(0));
      const loss = net.loss(tensor(b.x, b.shape), tensor(b.y, [2, 1, 16, 32]));
      assert.ok(Number.isFinite(loss.item()) && loss.item() > 0);
      // the loss reaches the weights
      const gs = grad(loss, net.parameters()) as Tensor[];
      assert.ok(gs.some((t) => t.abs().sum().item() > 0));
    });
  } finally {
    net.dispose();
    sup.dispose();
  }
});
