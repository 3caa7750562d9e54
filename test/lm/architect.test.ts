/**
 * The architecture gradient of the recurrent-cell search (src/search/rnn/architect.ts) against
 * central finite differences of what it claims to differentiate, on a tiny float64 search model
 * (3 nodes, smooth ops only so the objectives have no kinks, dropouts 0, batch norm in train mode
 * with the statistics of a batch of 5 — with 2 it maps every feature to ±1 and α barely matters), from non-zero hidden states:
 * - first order: L_val(w, α; h_val);
 * - second order with the product at w (hvpAt 'weights') and clipping inactive: the unrolled
 *   objective F(α) = L_val(w′(α), α; h_val) + ½λ‖w′(α)‖², w′(α) = w − η(∇w L_train(w, α; h_train) + λw),
 *   with the exact product and with the reference's finite difference;
 * - the reference's placement at w′ (hvpAt 'unrolled'): exact and finite-difference products agree,
 *   and differ from the chain-rule gradient;
 * - the hidden state each returns, and exact restoration of the weights.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { RnnSearchModel } from '../../src/nas/rnn/model.js';
import { RnnArchitect, clipTensors, type TokenTensors, type RnnVirtualStep } from '../../src/search/rnn/architect.js';
import { pinTestThreads } from '../helpers/threads.js';

pinTestThreads();

const SPACE = { steps: 3, ops: ['none', 'tanh', 'sigmoid', 'identity'] as const };
const VS: RnnVirtualStep = { lr: 0.7, weightDecay: 0.05, gradClip: 1e9 };

function setup(): { m: RnnSearchModel; train: TokenTensors; val: TokenTensors; hT: Tensor; hV: Tensor } {
  manualSeed(11);
  const m = new RnnSearchModel({ vocabSize: 7, hiddenSize: 4, space: { steps: SPACE.steps, ops: [...SPACE.ops] }, dropout: 0, dropouth: 0, dropoutx: 0, dropouti: 0, dropoute: 0 }).to('float64');
  m.train();
  // α away from uniform so the gradient has structure; weights scaled up so the cell is not linear
  m.setAlpha(m.alphaValues().map((r, e) => r.map((v, k) => v + 0.4 * Math.sin(1.3 * e + 2.1 * k))));
  noGrad(() => m.weightParameters().forEach((w) => w.mul_(12)));
  const ids = (xs: number[]) => keep(tensor(Int32Array.from(xs), [3, 5]).to('int64'));
  const train = { input: ids([0, 1, 2, 3, 4, 5, 6, 2, 4, 6, 1, 3, 5, 0, 2]), target: ids([1, 2, 3, 4, 5, 6, 0, 4, 6, 1, 3, 5, 0, 2, 4]) };
  const val = { input: ids([6, 5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 0, 2]), target: ids([5, 4, 3, 2, 1, 0, 1, 2, 3, 4, 5, 6, 0, 2, 4]) };
  const hT = keep(randn([1, 5, 4], { dtype: 'float64' }).mul(0.5));
  const hV = keep(randn([1, 5, 4], { dtype: 'float64' }).mul(0.5));
  return { m, train, val, hT, hV };
}

const values = (t: Tensor): number[] => noGrad(() => tidy(() => t.double().toNumbers()));

/** Central differences of f over every α entry (h = 1e-4: truncation and rounding both near 1e-12 here). */
function fdGradient(m: RnnSearchModel, f: () => number, h = 1e-4): number[] {
  const base = m.alphaValues();
  const out: number[] = [];
  base.forEach((row, e) =>
    row.forEach((_, k) => {
      const at = (d: number) => {
        m.setAlpha(base.map((r, ee) => r.map((v, kk) => (ee === e && kk === k ? v + d : v))));
        return f();
      };
      out.push((at(h) - at(-h)) / (2 * h));
    }),
  );
  m.setAlpha(base);
  return out;
}

function relErr(a: number[], b: number[]): number {
  const scale = Math.max(...b.map(Math.abs));
  return Math.max(...a.map((x, i) => Math.abs(x - b[i]!))) / scale;
}

/** F(α) = L_val(w′, α; hV) + ½λ‖w′‖², w′ = w − η(∇w L_train(w, α; hT) + λw); w restored. */
function unrolledObjective(m: RnnSearchModel, s: ReturnType<typeof setup>, vs: RnnVirtualStep): number {
  const ws = m.weightParameters();
  return tidy(() => {
    const saved = noGrad(() => ws.map((w) => w.detach().clone()));
    const g = grad(m.loss(s.train.input, s.train.target, s.hT).loss, ws) as Tensor[];
    noGrad(() => ws.forEach((w, i) => w.sub_(g[i]!.add(w, vs.weightDecay), vs.lr)));
    const f = noGrad(() => {
      let sq = 0;
      for (const w of ws) sq += w.square().sum().item();
      return m.loss(s.val.input, s.val.target, s.hV).loss.item() + 0.5 * vs.weightDecay * sq;
    });
    noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
    return f;
  });
}

const archGrad = (m: RnnSearchModel, o: Partial<ConstructorParameters<typeof RnnArchitect>[1]>, s: ReturnType<typeof setup>, vs = VS) => {
  const a = new RnnArchitect(m, { order: 'second', hvp: 'exact', hvpAt: 'weights', lr: 1e-3, betas: [0.9, 0.999], weightDecay: 0, ...o });
  const r = a.gradient(s.train, s.hT, s.val, s.hV, vs);
  const g = values(r.grads[0]!);
  const hidden = values(r.hidden);
  r.grads.forEach((t) => t.dispose());
  r.hidden.dispose();
  a.opt.dispose();
  return { g, hidden };
};

test('first order: ∇α L_val(w, α; h_val) equals finite differences; the returned hidden is the validation pass’s', () => {
  const s = setup();
  const { g, hidden } = archGrad(s.m, { order: 'first' }, s);
  const fd = fdGradient(s.m, () => noGrad(() => tidy(() => s.m.loss(s.val.input, s.val.target, s.hV).loss.item())));
  assert.equal(g.length, 24);
  assert.ok(relErr(g, fd) < 1e-7, `relative error ${relErr(g, fd)}`);
  const expected = noGrad(() => tidy(() => values(s.m.loss(s.val.input, s.val.target, s.hV).hidden)));
  assert.deepEqual(hidden, expected);
  const fromZero = noGrad(() => tidy(() => values(s.m.loss(s.val.input, s.val.target, s.m.initHidden(5)).hidden)));
  assert.notDeepEqual(hidden, fromZero, 'the hidden state it starts from matters');
});

test('second order at w (exact product, no clipping): the gradient of the unrolled objective', () => {
  const s = setup();
  const ws = s.m.weightParameters();
  const before = ws.map(values);
  const { g, hidden } = archGrad(s.m, { hvp: 'exact', hvpAt: 'weights' }, s);
  assert.deepEqual(ws.map(values), before, 'weights restored bitwise');
  const fd = fdGradient(s.m, () => unrolledObjective(s.m, s, VS));
  assert.ok(relErr(g, fd) < 1e-6, `relative error ${relErr(g, fd)}`);
  // the first-order gradient is a different number: the unrolled term matters here
  const first = archGrad(s.m, { order: 'first' }, s).g;
  assert.ok(relErr(first, fd) > 1e-2, `first order is too close (${relErr(first, fd)}) for this test to mean anything`);
  // the returned hidden is the validation pass at w′, not at w
  const atW = noGrad(() => tidy(() => values(s.m.loss(s.val.input, s.val.target, s.hV).hidden)));
  assert.notDeepEqual(hidden, atW);
});

test('second order at w with the reference’s finite-difference product agrees with the exact one', () => {
  const s = setup();
  const exact = archGrad(s.m, { hvp: 'exact', hvpAt: 'weights' }, s).g;
  const fdHvp = archGrad(s.m, { hvp: 'finite-difference', hvpAt: 'weights' }, s).g;
  // the reference's step is fixed (‖R·v‖ = 0.01 in weight space), so its truncation error does not
  // vanish: about 2e-4 of the gradient on this deliberately curved model; a wrong sign, a missing
  // λ·w′ or η would be off by far more
  const e = relErr(fdHvp, exact);
  assert.ok(e < 1e-3 && e > 0, `relative difference ${e}`);
  const noDecayInV = archGrad(s.m, { hvp: 'exact', hvpAt: 'weights' }, s, { ...VS, weightDecay: 0 }).g;
  assert.ok(relErr(noDecayInV, exact) > 1e-2, 'the weight decay terms matter on this model');
});

test('the reference’s placement at w′: exact and finite-difference products agree; it is not the chain-rule gradient', () => {
  const s = setup();
  const ex = archGrad(s.m, { hvp: 'exact', hvpAt: 'unrolled' }, s).g;
  const fdp = archGrad(s.m, { hvp: 'finite-difference', hvpAt: 'unrolled' }, s).g;
  assert.ok(relErr(fdp, ex) < 1e-3, `relative difference ${relErr(fdp, ex)}`);
  const chain = archGrad(s.m, { hvp: 'exact', hvpAt: 'weights' }, s).g;
  assert.ok(relErr(ex, chain) > 1e-6, 'at w′ and at w should differ for η > 0');
});

test('clipping: a small clip scales the virtual step’s gradient (DARTS _clip), so the gradient changes; clipTensors keeps directions', () => {
  const s = setup();
  const free = archGrad(s.m, { hvpAt: 'weights' }, s).g;
  const clipped = archGrad(s.m, { hvpAt: 'weights' }, s, { ...VS, gradClip: 1e-3 }).g;
  assert.ok(relErr(clipped, free) > 1e-3);
  tidy(() => {
    const a = tensor([3, 4], [2]).to('float64');
    const b = tensor([12], [1]).to('float64');
    const norm = clipTensors([a, b], 6.5);
    assert.equal(norm, 13);
    const f = 6.5 / (13 + 1e-6);
    assert.deepEqual(values(a).map((x) => +x.toFixed(9)), [3 * f, 4 * f].map((x) => +x.toFixed(9)));
  });
});
