/**
 * The disparity search in S6 (search/disp, experiments/disp-search-run.ts, `rdarts search --space
 * s6`): an in-memory search on the mini preset, the second-order architect's exact mixed HVP
 * through the float64 supernet against central differences, the CLI killed with SIGKILL in epoch 1 and
 * resumed ending bitwise where an uninterrupted run ends (every checkpoint tensor, the
 * checkpoint state, metrics.jsonl with its Hessian lines and genotypes.jsonl except timings,
 * result.json), and a missing real dataset that names the expected files and leaves no run folder.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { runDispSearch } from '../../src/experiments/disp-search-run.js';
import { MINI_DISP_OVERRIDES, resolveDispConfig } from '../../src/search/disp/config.js';
import type { DispSearchEvent } from '../../src/search/disp/trainer.js';
import { formatDispGenotypeRepr, validateDispGenotype } from '../../src/nas/disp/genotype.js';
import { mergeConfig } from '../../src/search/config.js';
import { checkpointValues, readJsonl, sameBits } from './helpers.js';
import { cli } from '../eval/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { pinTestThreads } from '../helpers/threads.js';
import { ConfigError } from '../../src/errors.js';
import { grad, keep, manualSeed, noGrad, tensor, tidy, type Tensor } from '../../src/torch/index.js';
import { DispSupernet } from '../../src/nas/disp/model.js';
import { Architect } from '../../src/search/architect.js';
import { generateSyntheticStereo, stereoBatch } from '../../src/data/index.js';
import { Rng } from '../../src/util/rng.js';

/** The --mini network. */
const cfgNet = { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2, steps: 2 };

pinTestThreads();

/** Drop every `seconds` field (wall-clock timings), at any depth. */
const noSeconds = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (k === 'seconds' ? undefined : x)));

test('in memory: the mini search runs its epochs and returns a valid genotype and a finite validation EPE', async () => {
  const cfg = resolveDispConfig(mergeConfig(MINI_DISP_OVERRIDES as Record<string, unknown>, { epochs: 2, stepsPerEpoch: 2, evalBatches: 1, hessian: { every: 0 } }), { space: 's6' }, 'test');
  assert.deepEqual(cfg.network, { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2, steps: 2 });
  const events: DispSearchEvent[] = [];
  const r = await runDispSearch(cfg, { out: null, onEvent: (e) => events.push(e) });
  assert.equal(r.runDir, null);
  assert.equal(r.stopReason, 'completed');
  assert.equal(r.epochsRun, 2);
  assert.equal(r.genotypeEpoch, 1);
  assert.equal(validateDispGenotype(r.genotype), 2);
  assert.equal(r.repr, formatDispGenotypeRepr(r.genotype));
  assert.ok(r.finalValid && Number.isFinite(r.finalValid.epe) && r.finalValid.epe > 0, `final EPE ${r.finalValid?.epe}`);
  assert.ok(Number.isFinite(r.finalValid.loss) && r.finalValid.loss > 0);
  const epochs = events.filter((e) => e.type === 'epoch');
  assert.deepEqual(epochs.map((e) => e.epoch), [0, 1]);
  assert.equal(events.filter((e) => e.type === 'step').length, 4);
  assert.equal(epochs.at(-1)!.genotype, r.repr, 'the result is the last epoch’s genotype');
  assert.deepEqual(epochs.at(-1)!.valid, r.finalValid);
  const start = events.find((e) => e.type === 'start');
  assert.ok(start && start.type === 'start' && start.alphas === 19 * 8 && start.resumedFrom === null);
});

test('second order on S6 (float64): the exact mixed HVP ∇α(∇w L_train · v) equals central differences in w; the finite-difference HVP restores w', () => {
  manualSeed(8);
  const m = new DispSupernet(cfgNet).to('float64');
  const ds = generateSyntheticStereo({ n: 2, height: 16, width: 32, maxDisparity: 4, seed: 5 });
  const b = stereoBatch(ds, [0, 1], {}, new Rng(0));
  const train = { x: keep(tidy(() => tensor(b.x, b.shape).double())), y: keep(tidy(() => tensor(b.y, [2, 1, 16, 32]).double())) };
  const arch = new Architect(m, { order: 'second', hvp: 'exact', lr: 3e-4, betas: [0.5, 0.999], weightDecay: 1e-3 });
  try {
    m.train(); // the search's mode: batch statistics (deterministic)
    const ws = m.weightParameters();
    const r = new Rng(9);
    const v = ws.map((w) => keep(noGrad(() => tidy(() => tensor(Float64Array.from({ length: w.numel() }, () => r.normal()), w.shape)))));
    const saved = ws.map((w) => keep(noGrad(() => w.detach().clone())));
    const flat = (ts: Tensor[]): number[] => tidy(() => m.archVector(ts).toNumbers());
    const exact = tidy(() => flat(arch.exactMixedHvp(train, v)));
    let sq = 0;
    for (const t of v) sq += tidy(() => t.square().sum().item());
    // central difference in w along v with a small step (1e-6 in w-norm): crosses no kink at this seed
    const eps = 1e-6 / Math.sqrt(sq);
    const gAt = (sign: number): number[] => {
      noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!).add_(v[i]!, sign * eps)));
      return tidy(() => flat(grad(m.loss(train.x, train.y), m.archParameters()) as Tensor[]));
    };
    const gp = gAt(1);
    const gm = gAt(-1);
    noGrad(() => ws.forEach((w, i) => w.copy_(saved[i]!)));
    const fd = gp.map((p, i) => (p - gm[i]!) / (2 * eps));
    const relTo = (a: number[], ref: number[]) => Math.hypot(...a.map((x, i) => x - ref[i]!)) / Math.hypot(...ref);
    assert.ok(Math.hypot(...exact) > 1e-6, 'the mixed product must not vanish');
    assert.ok(relTo(fd, exact) < 1e-6, `exact vs central difference: relative error ${relTo(fd, exact)}`);
    // the reference's own finite difference (DARTS architect.py, ε = 0.01/‖v‖): on this tiny net such a step crosses
    // ReLU / |·| kinks (measured: relative error 3e-9 at 1e-5/‖v‖, 4e-7 at 1e-4/‖v‖, then a jump to ~0.6 at 1e-3/‖v‖),
    // so only that it is finite, of α's size, and restores w exactly is asserted
    const ref = tidy(() => flat(arch.finiteDifferenceHvp(train, v, saved)));
    assert.equal(ref.length, exact.length);
    assert.ok(ref.every(Number.isFinite));
    ws.forEach((w, i) => assert.ok(sameBits(tidy(() => w.toNumbers()), tidy(() => saved[i]!.toNumbers())), 'w restored'));
    for (const t of [...v, ...saved]) t.dispose();
  } finally {
    arch.opt.dispose();
    train.x.dispose();
    train.y.dispose();
    m.dispose();
  }
});

test('SIGKILL in epoch 1, then --resume: the S6 search ends bitwise as an uninterrupted run', { timeout: 180_000 }, async () => {
  const dir = tempDir('disp-kill');
  try {
    const config = join(dir.path, 'tiny.yaml');
    writeFileSync(config, ['space: s6', 'hessian: { every: 1, lanczosIterations: 5, topK: 2 }', ''].join('\n'));
    // augmentation on: the resumed run must also restore the augmentation RNG
    const common = ['search', '--mini', '--config', config, '--epochs', '3', '--steps-per-epoch', '2', '--eval-batches', '1', '--augment', '0.5', '--seed', '3'];
    const full = join(dir.path, 'full');
    const killed = join(dir.path, 'killed');
    // 'epoch 1 step 1/' comes after epoch 0's checkpoint: the kill lands in epoch 1
    const [a, b] = await Promise.all([cli([...common, '--out', full]), cli([...common, '--out', killed], /^epoch 1 step 1\//m)]);
    assert.equal(a.code, 0, `uninterrupted run failed: ${a.stderr}`);
    assert.match(a.stdout, /final validation EPE \(one-shot model\): \d/);
    assert.match(a.stdout, /genotype: DispGenotype\(normal=\[/);
    assert.equal(b.signal, 'SIGKILL', `the run was not killed (code ${b.code}): ${b.stderr.slice(-2000)}`);
    assert.match(b.stderr, /^epoch 0: train EPE/m);
    assert.deepEqual(listCheckpoints(join(killed, 'checkpoints')), [0]);
    assert.equal(existsSync(join(killed, 'result.json')), false);
    const c = await cli(['search', '--resume', killed]);
    assert.equal(c.code, 0, `resume failed: ${c.stderr}`);
    assert.match(c.stderr, /resumed after epoch 0/);

    // the Hessian monitor measured at every epoch, λ_max finite
    const ma = readJsonl(join(full, 'metrics.jsonl'));
    const mb = readJsonl(join(killed, 'metrics.jsonl'));
    const hessian = ma.filter((l) => l.kind === 'hessian');
    assert.deepEqual(hessian.map((l) => l.epoch), [0, 1, 2]);
    for (const h of hessian) assert.ok(typeof h.maxEigenvalue === 'number' && Number.isFinite(h.maxEigenvalue), `λ_max ${String(h.maxEigenvalue)}`);
    assert.deepEqual(ma.filter((l) => l.kind === 'epoch').map((l) => [l.epoch, l.augment]), [[0, 0.5], [1, 0.5], [2, 0.5]]);
    // line by line equal except the timings (the killed run's cut-off epoch-1 lines are gone)
    assert.deepEqual(mb.filter((l) => l.kind === 'epoch').map((l) => l.epoch), [0, 1, 2]);
    assert.deepEqual(mb.map(noSeconds), ma.map(noSeconds));
    assert.deepEqual(readJsonl(join(killed, 'genotypes.jsonl')), readJsonl(join(full, 'genotypes.jsonl')));

    // the last checkpoint: every tensor bitwise, and the trainer state
    const fa = checkpointValues(join(full, 'checkpoints'));
    const fb = checkpointValues(join(killed, 'checkpoints'));
    assert.equal(fa.epoch, 2);
    assert.equal(fb.epoch, 2);
    assert.deepEqual([...fb.values.keys()].sort(), [...fa.values.keys()].sort());
    assert.ok(fa.values.has('alpha.upsample') && fa.values.has('adam.exp_avg.2'), [...fa.values.keys()].filter((k) => !k.startsWith('w.')).join(', '));
    for (const [name, v] of fa.values) {
      const w = fb.values.get(name)!;
      assert.equal(w.dtype, v.dtype, name);
      assert.deepEqual(w.shape, v.shape, name);
      assert.ok(sameBits(w.data, v.data), `${name} differs between the resumed and the uninterrupted run`);
    }
    // the trainer state too, except the metrics log's byte length (its timing fields differ in width): that is each run's file size
    const { logs: la, ...sa } = fa.state as { logs: { metrics: number; genotypes: number } };
    const { logs: lb, ...sb } = fb.state as { logs: { metrics: number; genotypes: number } };
    assert.deepEqual(sb, sa);
    assert.equal(lb.genotypes, la.genotypes);
    assert.equal(la.metrics, statSync(join(full, 'metrics.jsonl')).size);
    assert.equal(lb.metrics, statSync(join(killed, 'metrics.jsonl')).size);

    const ra = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8')) as Record<string, unknown>;
    const rb = JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(rb.genotype, ra.genotype);
    assert.equal(rb.repr, ra.repr);
    assert.deepEqual(rb.finalValid, ra.finalValid);
    assert.equal(ra.epochsRun, 3);
    const { runDir: _a, ...restA } = ra;
    const { runDir: _b, ...restB } = rb;
    assert.deepEqual(noSeconds(restB), noSeconds(restA));

    // the run folder is taken: a new search into it is refused, naming --resume
    const cfg = resolveDispConfig(mergeConfig(MINI_DISP_OVERRIDES as Record<string, unknown>, { epochs: 1 }), { space: 's6' }, 'test');
    await assert.rejects(runDispSearch(cfg, { out: full }), (e: unknown) => e instanceof ConfigError && /already holds a run/.test(e.message) && /--resume/.test(e.describe()));
  } finally {
    dir.cleanup();
  }
});

test('a missing FlyingThings3D / Sintel names the expected files and leaves no run folder', async () => {
  const dir = tempDir('disp-missing');
  try {
    const out = join(dir.path, 'run');
    const none = join(dir.path, 'nonexistent');
    const r = await cli(['search', '--space', 's6', '--mini', '--dataset', 'flyingthings3d', '--data-dir', none, '--out', out]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /FlyingThings3D train split/);
    assert.match(r.stderr, /frames_cleanpass\/TRAIN\/.*\.png/);
    assert.match(r.stderr, /disparity\/TRAIN\/.*\.pfm/);
    assert.match(r.stderr, /lmb\.informatik\.uni-freiburg\.de/, 'where the data come from');
    assert.equal(existsSync(out), false, 'no run folder');
    const s = await cli(['search', '--space', 's6', '--mini', '--dataset', 'sintel', '--data-dir', none, '--out', out]);
    assert.notEqual(s.code, 0);
    assert.match(s.stderr, /Sintel/);
    assert.match(s.stderr, /sintel\.is\.tue\.mpg\.de/);
    assert.equal(existsSync(out), false, 'no run folder');
    // a real dataset without a folder is refused when the configuration resolves
    assert.throws(() => resolveDispConfig(MINI_DISP_OVERRIDES as Record<string, unknown>, { space: 's6', dataset: 'flyingthings3d' }, 'test'), (e: unknown) => e instanceof ConfigError && /dataset flyingthings3d needs dataDir/.test(e.message));
  } finally {
    dir.cleanup();
  }
});
