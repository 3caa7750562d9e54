/**
 * The architecture gradient of the unrolled (second-order) DARTS step against a central finite
 * difference of the quantity it claims to differentiate:
 *   f(α) = L_val(w'(α), α),  w'(α) = w − η·(μ·m + ∇w L_train(w, α) + λ·w)
 * recomputed from scratch for every perturbed α (float64, tiny network, batch norm in train mode
 * with batch statistics, no drop path, a space without the noise op).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { grad, keep, liveTensors, manualSeed, noGrad, randn, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { Network, getSpace } from '../../src/nas/index.js';
import { Architect, type Batch, type VirtualStep } from '../../src/search/architect.js';

pinTestThreads();

function setup(): { net: Network; train: Batch; val: Batch } {
  manualSeed(7);
  const net = new Network({ space: getSpace('s2'), C: 2, layers: 3, numClasses: 4 }).to('float64');
  net.train();
  net.dropPathProb = 0;
  // α away from uniform so the gradient has structure (init is 1e-3·N(0,1))
  const a = net.alphaValues();
  const spread = (rows: number[][], s: number) => rows.map((r, e) => r.map((v, k) => v + 0.3 * Math.sin(1.7 * e + 2.3 * k + s)));
  net.setAlphas({ normal: spread(a.normal, 0), reduce: spread(a.reduce, 1) });
  const train = { x: keep(randn([6, 3, 8, 8], { dtype: 'float64' })), y: keep(tensor([0, 1, 2, 3, 1, 2], { dtype: 'int64' })) };
  const val = { x: keep(randn([6, 3, 8, 8], { dtype: 'float64' })), y: keep(tensor([3, 2, 1, 0, 0, 1], { dtype: 'int64' })) };
  return { net, train, val };
}

/** f(α) = L_val(w − η(μm + ∇w L_train + λw), α) at the model's current α; w restored exactly. */
function unrolledValLoss(net: Network, train: Batch, val: Batch, vs: VirtualStep): number {
  const ws = net.weightParameters();
  return tidy(() => {
    const saved = noGrad(() => ws.map((w) => w.detach().clone()));
    const g = grad(net.loss(train.x, train.y), ws) as Tensor[];
    noGrad(() =>
      ws.forEach((w, i) => {
        let d = g[i]!.add(w.mul(vs.weightDecay));
        const m = vs.momentumBuffers[i];
        if (m) d = d.add(m.mul(vs.momentum));
        w.sub_(d.mul(vs.lr));
      }),
    );
    const l = noGrad(() => net.loss(val.x, val.y).item());
    noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
    return l;
  });
}

/**
 * Directional derivatives of f at the current α along unit directions u, by central differences,
 * compared with ⟨g, u⟩. f is only piecewise smooth (∇w L_train contains ReLU′, a step function, so
 * the slope of f changes where an activation crosses zero; one such kink sits within 1e-6 of α on
 * this network), so each estimate checks that the forward and backward halves agree and shrinks
 * the step when they do not. Returns the largest |FD − ⟨g, u⟩| over the directions, relative to ‖g‖.
 */
function directionalCheck(net: Network, f: () => number, g: number[], directions: number[][]): { rel: number; worst: string } {
  const base = net.alphaValues();
  const layout = (v: number[]): { normal: number[][]; reduce: number[][] } => {
    let i = 0;
    const take = (rows: number[][]) => rows.map((r) => r.map((x) => x + v[i++]!));
    return { normal: take(base.normal), reduce: take(base.reduce) };
  };
  const gNorm = Math.hypot(...g);
  let rel = 0;
  let worst = '';
  try {
    directions.forEach((u, d) => {
      const at = (t: number): number => {
        net.setAlphas(layout(u.map((x) => x * t)));
        return f();
      };
      const f0 = at(0);
      let h = 1e-6;
      let est = NaN;
      for (; h >= 1e-9; h /= 10) {
        const fp = at(h);
        const fm = at(-h);
        const fwd = (fp - f0) / h;
        const bwd = (f0 - fm) / h;
        est = (fp - fm) / (2 * h);
        if (Math.abs(fwd - bwd) < 1e-4 * Math.abs(est) + 1e-7) break;
      }
      const want = u.reduce((s, x, i) => s + x * g[i]!, 0);
      const r = Math.abs(est - want) / gNorm;
      if (r >= rel) {
        rel = r;
        worst = `direction ${d}: FD ${est} (h ${h.toExponential(0)}) vs ⟨g,u⟩ ${want}`;
      }
    });
  } finally {
    net.setAlphas(base);
  }
  return { rel, worst };
}

/** Unit directions in the flat α layout: a few random ones and a few coordinate axes. */
function directions(n: number): number[][] {
  let seed = 12345;
  const rnd = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  const unit = (v: number[]): number[] => {
    const s = Math.hypot(...v);
    return v.map((x) => x / s);
  };
  const out = [0, 1, 2, 3].map(() => unit(Array.from({ length: n }, rnd)));
  for (const k of [0, Math.floor(n / 2) - 1, Math.floor(n / 2), n - 1]) out.push(Array.from({ length: n }, (_, i) => (i === k ? 1 : 0)));
  return out;
}

/**
 * The reference's estimator built from scratch: v = ∇w′ L_val(w′, α), g1 = ∇α L_val(w′, α),
 * ε = 0.01/‖v‖, gα = g1 − η·(∇α L_train(w + εv, α) − ∇α L_train(w − εv, α))/(2ε).
 */
function referenceFiniteDifferenceGradient(net: Network, train: Batch, val: Batch, vs: VirtualStep): number[] {
  const ws = net.weightParameters();
  const alphas = net.archParameters();
  return tidy(() => {
    const saved = noGrad(() => ws.map((w) => w.detach().clone()));
    const g = grad(net.loss(train.x, train.y), ws) as Tensor[];
    noGrad(() =>
      ws.forEach((w, i) => {
        let d = g[i]!.add(w.mul(vs.weightDecay));
        const m = vs.momentumBuffers[i];
        if (m) d = d.add(m.mul(vs.momentum));
        w.sub_(d.mul(vs.lr));
      }),
    );
    const gv = grad(net.loss(val.x, val.y), [...ws, ...alphas]) as Tensor[];
    const v = gv.slice(0, ws.length);
    const g1 = gv.slice(ws.length);
    const norm = Math.sqrt(v.reduce((s, t) => s + t.square().sum().item(), 0));
    const eps = 0.01 / norm;
    const gradAt = (sign: number): Tensor[] => {
      noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!.add(v[i]!.mul(sign * eps)))));
      return grad(net.loss(train.x, train.y), alphas) as Tensor[];
    };
    const gp = gradAt(1);
    const gm = gradAt(-1);
    noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
    return flat(net, g1.map((t, i) => t.sub(gp[i]!.sub(gm[i]!).div(2 * eps).mul(vs.lr))));
  });
}

function flat(net: Network, g: Tensor[]): number[] {
  // s2 has two ops on every edge: no padding, so the row-major values are the α layout
  assert.equal(g[0]!.shape.join(','), `${net.numEdges},2`);
  return [...g[0]!.toNumbers(), ...g[1]!.toNumbers()];
}

function relError(a: number[], b: number[]): { rel: number; maxAbs: number; scale: number } {
  let maxAbs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    maxAbs = Math.max(maxAbs, Math.abs(a[i]! - b[i]!));
    scale = Math.max(scale, Math.abs(b[i]!));
  }
  return { rel: maxAbs / scale, maxAbs, scale };
}

const archOptions = { lr: 3e-4, betas: [0.5, 0.999] as [number, number], weightDecay: 1e-3 };

function weightsSnapshot(net: Network): number[][] {
  return net.weightParameters().map((w) => w.toNumbers());
}

function checkSecondOrder(net: Network, train: Batch, val: Batch, vs: VirtualStep, what: string): { exact: Tensor[]; fd: Tensor[] } {
  const w0 = weightsSnapshot(net);
  const a0 = net.alphaValues();

  const exact = new Architect(net, { order: 'second', hvp: 'exact', ...archOptions });
  const gExact = exact.gradient(train, val, vs);
  const gFlat = flat(net, gExact);
  assert.ok(Math.max(...gFlat.map(Math.abs)) > 1e-3, `${what}: gradient too small to test`);
  const e = directionalCheck(net, () => unrolledValLoss(net, train, val, vs), gFlat, directions(gFlat.length));
  // measured ≈ 1e-9 (float64)
  assert.ok(e.rel < 1e-6, `${what}: exact HVP vs finite differences of the unrolled loss: |FD − ⟨g,u⟩|/‖g‖ = ${e.rel} (${e.worst})`);

  // The reference's finite-difference HVP perturbs w by a vector of norm 0.01. On a network this
  // small (2 channels, 2×2 maps in the last cells, batch-norm over a handful of values) that is far
  // outside the linear regime: it differs from the exact gradient by several times the gradient's
  // size (measured 3–10× relative). What can be checked tightly is that it is the reference's
  // estimator: the same numbers as an independent construction of g1 − η·ΔαL/(2ε), ε = 0.01/‖v‖.
  const fdArch = new Architect(net, { order: 'second', hvp: 'finite-difference', ...archOptions });
  const gFd = fdArch.gradient(train, val, vs);
  const ref = referenceFiniteDifferenceGradient(net, train, val, vs);
  const eRef = relError(flat(net, gFd), ref);
  assert.ok(eRef.rel < 1e-9, `${what}: finite-difference HVP vs the reference estimator built from scratch: relative error ${eRef.rel}`);
  assert.ok(relError(flat(net, gFd), flat(net, gExact)).rel > 1e-6, `${what}: finite-difference and exact HVP should not coincide`);

  // the unrolled step leaves w and α exactly as they were
  assert.deepEqual(weightsSnapshot(net), w0, `${what}: weights not restored`);
  assert.deepEqual(net.alphaValues(), a0, `${what}: α changed`);
  exact.opt.dispose();
  fdArch.opt.dispose();
  return { exact: gExact, fd: gFd };
}

test('second-order α gradient equals d/dα L_val(w − η∇w L_train(w, α), α) (exact HVP); the FD HVP is the reference estimator; momentum 0, L2 0', () => {
  const { net, train, val } = setup();
  // (measured after construction: construction temporaries are left to the GC safety net)
  const before = liveTensors();
  const vs: VirtualStep = { lr: 0.5, momentum: 0, weightDecay: 0, momentumBuffers: net.weightParameters().map(() => null) };
  const g = checkSecondOrder(net, train, val, vs, 'momentum 0, L2 0');

  // the η·hvp term matters: the first-order gradient is far from the unrolled one
  const first = new Architect(net, { order: 'first', hvp: 'exact', ...archOptions });
  const g1 = first.gradient(train, val, vs);
  assert.ok(relError(flat(net, g1), flat(net, g.exact)).rel > 1e-2, 'first- and second-order gradients should differ at η = 0.5');
  first.opt.dispose();

  for (const t of [...g.exact, ...g.fd, ...g1]) t.dispose();
  assert.equal(liveTensors(), before, 'architect gradients leaked tensor handles');
  for (const t of [train.x, train.y, val.x, val.y]) t.dispose();
  net.dispose();
});

test('second-order α gradient with momentum buffers and weight decay: w′ = w − η(μm + g + λw)', () => {
  const { net, train, val } = setup();
  manualSeed(11);
  const bufs = net.weightParameters().map((w) => keep(noGrad(() => randn(w.shape, { dtype: 'float64' }).mul(0.05))));
  const vs: VirtualStep = { lr: 0.3, momentum: 0.9, weightDecay: 0.05, momentumBuffers: bufs };
  const g = checkSecondOrder(net, train, val, vs, 'momentum 0.9, L2 0.05');

  // the momentum and L2 terms are really used: without them the gradient is different
  const exact = new Architect(net, { order: 'second', hvp: 'exact', ...archOptions });
  const g0 = exact.gradient(train, val, { ...vs, momentum: 0, weightDecay: 0 });
  assert.ok(relError(flat(net, g0), flat(net, g.exact)).rel > 1e-3, 'momentum/L2 terms of the virtual step had no effect');
  exact.opt.dispose();

  for (const t of [...g.exact, ...g.fd, ...g0, ...bufs]) t.dispose();
  for (const t of [train.x, train.y, val.x, val.y]) t.dispose();
  net.dispose();
});

test('first-order α gradient is exactly ∇α L_val(w, α), and step() applies coupled-L2 Adam to it', () => {
  const { net, train, val } = setup();
  const vs: VirtualStep = { lr: 0.5, momentum: 0, weightDecay: 0, momentumBuffers: net.weightParameters().map(() => null) };
  const arch = new Architect(net, { order: 'first', hvp: 'finite-difference', ...archOptions });
  const g = arch.gradient(train, val, vs);
  const want = tidy(() => (grad(net.loss(val.x, val.y), net.archParameters()) as Tensor[]).map((t) => t.toNumbers()));
  assert.deepEqual(g.map((t) => t.toNumbers()), want);
  for (const t of g) t.dispose();

  // one Adam step from zero state: α ← α − lr·sign-ish(g + λα); first step m̂ = g', v̂ = g'², so Δ = −lr·g'/(|g'| + eps)
  const a0 = flat(net, net.archParameters());
  arch.step(train, val, vs);
  const a1 = flat(net, net.archParameters());
  const gw = [...want[0]!, ...want[1]!].map((gi, i) => gi + archOptions.weightDecay * a0[i]!);
  a1.forEach((v, i) => {
    const expect = a0[i]! - (archOptions.lr * gw[i]!) / (Math.abs(gw[i]!) + 1e-8);
    assert.ok(Math.abs(v - expect) < 1e-12, `α[${i}]: ${v} vs ${expect}`);
  });
  assert.equal(net.alphaNormal.grad, null, 'step() should clear α gradients');
  arch.opt.dispose();
  for (const t of [train.x, train.y, val.x, val.y]) t.dispose();
  net.dispose();
});
