/**
 * DARTS-ES and DARTS-ADA end to end on tiny searches whose early-stop rule is set to fire on any
 * rise of the dominant eigenvalue (factor 1.0000001 / threshold 0.999999). Where the rule fires is
 * recomputed here from the logged eigenvalues, so the tests check the wiring (measurement → rule
 * → stop / rollback → returned genotype) rather than a hard-coded epoch.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Tensor } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { RunDir } from '../../src/experiments/run-dir.js';
import { RunFolderRecorder } from '../../src/experiments/run-recorder.js';
import { loadCheckpoint, listCheckpoints } from '../../src/experiments/checkpoint.js';
import { resumeSearch, runSearch } from '../../src/experiments/search-run.js';
import { buildPlugins } from '../../src/search/methods/index.js';
import { SearchTrainer } from '../../src/search/trainer.js';
import type { SearchPlugin } from '../../src/search/plugin.js';
import { checkpointValues, readJsonl, sameBits, tinyConfig, tinyData } from './helpers.js';

pinTestThreads();

const HESSIAN = { lanczosIterations: 8, topK: 1 };

type Line = Record<string, unknown>;
const ofKind = (lines: Line[], kind: string) => lines.filter((l) => l.kind === kind);

test('darts-es, paper rule (k 2, threshold 0.999999, every epoch): stops at the first firing and returns the genotype of epoch i − k', async () => {
  const dir = tempDir('es-paper');
  try {
    const cfg = tinyConfig({ method: 'darts-es', seed: 1, epochs: 8, hessian: { every: 1, ...HESSIAN }, earlyStop: { rule: 'paper', k: 2, threshold: 0.999999 } });
    const r = await runSearch(cfg, { out: dir.path, data: tinyData(cfg) });
    const lines = readJsonl(join(dir.path, 'metrics.jsonl'));
    const ev = new Map(ofKind(lines, 'hessian').map((l) => [l.epoch as number, l.maxEigenvalue as number]));
    // the paper rule by hand: λ̄(j) = mean(λ(j−1), λ(j)) for j ≥ 1; fire at the first i ≥ 3 with λ̄(i−2)/λ̄(i) < threshold
    const avg = (j: number) => (ev.get(j - 1)! + ev.get(j)!) / 2;
    let detect: number | null = null;
    for (let i = 3; i < cfg.epochs && detect === null; i++) {
      if (!ev.has(i)) break;
      if (avg(i - 2) / avg(i) < 0.999999) detect = i;
    }
    assert.notEqual(detect, null, `the rule should fire on this trace: ${[...ev].map(([e, v]) => `${e}:${v.toFixed(4)}`).join(' ')}`);
    const stopEpoch = detect! - 2;
    assert.equal(r.stopReason, 'early-stop');
    assert.equal(r.genotypeEpoch, stopEpoch);
    assert.equal(r.epochsRun, detect! + 1, 'the search should stop right after the detection epoch');
    // one Hessian line per epoch run (every 1), none after the stop
    assert.deepEqual([...ev.keys()], Array.from({ length: detect! + 1 }, (_, i) => i));
    const es = ofKind(lines, 'early-stop');
    assert.equal(es.length, 1);
    assert.equal(es[0]!.detectEpoch, detect);
    assert.equal(es[0]!.stopEpoch, stopEpoch);
    assert.ok(ofKind(lines, 'early-stop-check').length >= 1);
    // the returned genotype is the one recorded after the stop epoch, not the last one
    const genotypes = readJsonl(join(dir.path, 'genotypes.jsonl'));
    const atStop = genotypes.find((g) => g.epoch === stopEpoch)!;
    const result = JSON.parse(readFileSync(join(dir.path, 'result.json'), 'utf8'));
    assert.equal(result.stopReason, 'early-stop');
    assert.equal(result.genotypeEpoch, stopEpoch);
    assert.deepEqual(result.genotype, atStop.genotype);
    assert.equal(result.repr, atStop.repr);
    assert.equal(es[0]!.repr, atStop.repr);

    // --resume on the finished run: it stays stopped (no more epochs, same result and logs).
    // (It used to train on from the checkpoint of the detection epoch and rewrite result.json as 'completed'.)
    const metricsBefore = readJsonl(join(dir.path, 'metrics.jsonl')).map(({ seconds: _s, ...l }) => l);
    const again = await resumeSearch(dir.path, { data: tinyData(cfg) });
    assert.equal(again.stopReason, 'early-stop');
    assert.equal(again.genotypeEpoch, stopEpoch);
    assert.equal(again.epochsRun, detect! + 1);
    assert.deepEqual(JSON.parse(readFileSync(join(dir.path, 'result.json'), 'utf8')), result);
    assert.deepEqual(
      readJsonl(join(dir.path, 'metrics.jsonl')).map(({ seconds: _s, ...l }) => l),
      metricsBefore,
    );
  } finally {
    dir.cleanup();
  }
});

test('darts-es, code rule (window 1, delta 1, factor 1.0000001, start 0, Hessian every 2): measures at even epochs, stops at the first rise, returns epoch e − 2', async () => {
  const dir = tempDir('es-code');
  try {
    const cfg = tinyConfig({ method: 'darts-es', seed: 3, epochs: 10, hessian: { every: 2, ...HESSIAN }, earlyStop: { rule: 'code', window: 1, delta: 1, factor: 1.0000001, startEpoch: 0 } });
    const r = await runSearch(cfg, { out: dir.path, data: tinyData(cfg) });
    const lines = readJsonl(join(dir.path, 'metrics.jsonl'));
    const hs = ofKind(lines, 'hessian');
    const epochs = hs.map((l) => l.epoch as number);
    const ev = hs.map((l) => l.maxEigenvalue as number);
    // local average of one EV is the EV itself (label e); check r = λ(e)/λ(e − 2) at every measured e ≥ 2
    const k = ev.findIndex((v, i) => i > 0 && v / ev[i - 1]! > 1.0000001);
    assert.ok(k > 0, `the rule should fire on this trace: ${ev.map((v) => v.toFixed(4)).join(' ')}`);
    const detect = epochs[k]!;
    assert.deepEqual(epochs, Array.from({ length: k + 1 }, (_, i) => 2 * i), 'Hessian epochs should be 0, 2, 4, … up to the detection');
    assert.equal(r.stopReason, 'early-stop');
    assert.equal(r.genotypeEpoch, detect - 2);
    assert.equal(r.epochsRun, detect + 1);
    const es = ofKind(lines, 'early-stop');
    assert.deepEqual(
      es.map((l) => [l.detectEpoch, l.stopEpoch]),
      [[detect, detect - 2]],
    );
    const atStop = readJsonl(join(dir.path, 'genotypes.jsonl')).find((g) => g.epoch === detect - 2)!;
    assert.equal(r.repr, atStop.repr);
  } finally {
    dir.cleanup();
  }
});

/** Everything a rollback must restore, as plain numbers. */
function liveState(t: SearchTrainer): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const [n, p] of t.model.namedParameters()) out.set(`w.${n}`, p.toNumbers());
  for (const [n, b] of t.model.namedBuffers()) out.set(`buf.${n}`, b.toNumbers());
  const [an, ar] = t.model.archParameters();
  out.set('alpha.normal', an!.toNumbers());
  out.set('alpha.reduce', ar!.toNumbers());
  t.wOpt.momentumBuffers.forEach((b, i) => b && out.set(`sgd.momentum.${i}`, b.toNumbers()));
  t.architect.opt.slots.forEach((s, i) => {
    if (s.expAvg) out.set(`adam.exp_avg.${i}`, s.expAvg.toNumbers());
    if (s.expAvgSq) out.set(`adam.exp_avg_sq.${i}`, s.expAvgSq.toNumbers());
  });
  return out;
}

test('darts-ada: rollbacks restore the target checkpoint exactly, raise L2 3e-4 → 3e-3 → 3e-2 (at most 2 rollbacks), log the DARTS-ES genotype at the first one, and finish with a result', async () => {
  const dir = tempDir('ada');
  const cfg = tinyConfig({ method: 'darts-ada', seed: 1, epochs: 8, hessian: { every: 1, ...HESSIAN }, earlyStop: { rule: 'code', window: 1, delta: 1, factor: 1.0000001, startEpoch: 0 } });
  assert.equal(cfg.weightDecay, 3e-4);
  const runDir = new RunDir(dir.path).ensure();
  const checks: Array<{ epoch: number; iteration: number; l2: number }> = [];
  let lastIteration = 0;
  let trainer: SearchTrainer | null = null;
  // at the start of the first epoch after a rollback, compare the whole training state with the
  // checkpoint of the epoch rolled back to (still on disk: later ones are deleted, it is not)
  const probe: SearchPlugin = {
    name: 'rollback-probe',
    onEpochStart(ctx) {
      if (ctx.iteration === lastIteration) return;
      lastIteration = ctx.iteration;
      const t = trainer!;
      const target = ctx.epoch - 1;
      assert.equal(Math.max(...listCheckpoints(runDir.checkpointsDir)), target, 'checkpoints after the rollback target should be gone');
      const ck = loadCheckpoint<Record<string, unknown>>(runDir.checkpointsDir, target);
      try {
        const live = liveState(t);
        assert.deepEqual([...live.keys()].sort(), [...ck.tensors.keys()].sort(), 'the restored state has other tensors than the checkpoint');
        for (const [name, saved] of ck.tensors as Map<string, Tensor>) assert.ok(sameBits(live.get(name)!, saved.toNumbers()), `${name} differs from the checkpoint of epoch ${target} after the rollback`);
      } finally {
        for (const x of ck.tensors.values()) x.dispose();
      }
      // the non-tensor state: RNGs, data order, Adam steps, schedule position, genotype history
      const st = (t as unknown as { state(): Record<string, unknown> }).state();
      for (const k of ['epoch', 'torchRng', 'augRng', 'trainLoader', 'valSampler', 'adam', 'genotypes', 'lastValid']) {
        assert.deepEqual(st[k], ck.state[k], `state.${k} differs from the checkpoint of epoch ${target}`);
      }
      // the Hessian monitor and the early-stop rule were restored with the epoch; ADA kept its own state
      const plugins = st.plugins as Record<string, unknown>;
      const saved = ck.state.plugins as Record<string, unknown>;
      assert.deepEqual(plugins['early-stop'], saved['early-stop']);
      assert.deepEqual(plugins.hessian, saved.hessian);
      assert.notDeepEqual(plugins.ada, saved.ada);
      // the new L2 is in force for the weight optimiser
      assert.equal(t.wOpt.hyper.weightDecay, ctx.l2);
      checks.push({ epoch: ctx.epoch, iteration: ctx.iteration, l2: ctx.l2 });
    },
  };
  try {
    trainer = new SearchTrainer(cfg, { train: tinyData(cfg) }, { plugins: [...buildPlugins(cfg), probe], recorder: new RunFolderRecorder(runDir) });
    runDir.writeConfig(trainer.describe());
    const r = await trainer.run();

    const lines = readJsonl(join(dir.path, 'metrics.jsonl'));
    const rollbacks = ofKind(lines, 'ada').filter((l) => l.action === 'rollback');
    const ignored = ofKind(lines, 'ada').filter((l) => l.action === 'ignore');
    assert.equal(rollbacks.length, 2, `expected two rollbacks on this trace, got ${rollbacks.length}`);
    const close = (a: unknown, b: number) => Math.abs((a as number) - b) <= 1e-12 * b;
    assert.ok(close(rollbacks[0]!.previousL2, 3e-4) && close(rollbacks[0]!.newL2, 3e-3), JSON.stringify(rollbacks[0]));
    assert.ok(close(rollbacks[1]!.previousL2, 3e-3) && close(rollbacks[1]!.newL2, 3e-2), JSON.stringify(rollbacks[1]));
    assert.equal(checks.length, 2, 'the probe should have seen both rollbacks');
    assert.deepEqual(
      checks.map((c) => c.epoch),
      rollbacks.map((l) => (l.toEpoch as number) + 1),
    );
    // every firing after the second rollback is ignored: L2 3e-2 is final (round(log .03/log .03, 1) = 1)
    for (const l of ignored) assert.ok(close(l.l2, 3e-2));
    const fired = ofKind(lines, 'early-stop').length;
    assert.equal(fired, rollbacks.length + ignored.length, 'each firing is either a rollback or ignored');
    // epoch lines carry the L2 in force: 3e-4 in iteration 0, then 3e-3, then 3e-2
    for (const l of ofKind(lines, 'epoch')) assert.ok(close(l.l2, [3e-4, 3e-3, 3e-2][l.iteration as number]!), JSON.stringify(l));

    // the DARTS-ES genotype is logged once, at the first rollback, for its target epoch (iteration 0)
    const esg = ofKind(lines, 'darts-es-genotype');
    assert.equal(esg.length, 1);
    assert.equal(esg[0]!.stopEpoch, rollbacks[0]!.toEpoch);
    const g0 = readJsonl(join(dir.path, 'genotypes.jsonl')).find((g) => g.iteration === 0 && g.epoch === rollbacks[0]!.toEpoch)!;
    assert.equal(esg[0]!.repr, g0.repr);

    // the run ends normally with the last iteration's final genotype
    assert.equal(r.stopReason, 'completed');
    assert.equal(r.epochsRun, cfg.epochs);
    assert.equal(r.iterations, 2);
    assert.equal(r.genotypeEpoch, cfg.epochs - 1);
    const result = JSON.parse(readFileSync(join(dir.path, 'result.json'), 'utf8'));
    assert.ok(close(result.l2, 3e-2));
    const last = readJsonl(join(dir.path, 'genotypes.jsonl')).at(-1)!;
    assert.deepEqual([last.epoch, last.iteration], [cfg.epochs - 1, 2]);
    assert.equal(result.repr, last.repr);
  } finally {
    trainer?.dispose();
    dir.cleanup();
  }
});

test('darts-ada: a crash right after a rollback, then resume, ends bitwise where the uninterrupted run ends', async () => {
  const dir = tempDir('ada-crash');
  const cfg = tinyConfig({ method: 'darts-ada', seed: 1, epochs: 6, hessian: { every: 1, ...HESSIAN }, earlyStop: { rule: 'code', window: 1, delta: 1, factor: 1.0000001, startEpoch: 0 } });
  try {
    const full = join(dir.path, 'full');
    await runSearch(cfg, { out: full, data: tinyData(cfg) });
    const crashed = join(dir.path, 'crashed');
    const runDir = new RunDir(crashed).ensure();
    const crash: SearchPlugin = {
      name: 'crash',
      onEpochStart(ctx) {
        if (ctx.iteration === 1) throw new Error('simulated crash after the first rollback');
      },
    };
    const t = new SearchTrainer(cfg, { train: tinyData(cfg) }, { plugins: [...buildPlugins(cfg), crash], recorder: new RunFolderRecorder(runDir) });
    try {
      runDir.writeConfig(t.describe());
      await assert.rejects(t.run(), /simulated crash/);
    } finally {
      t.dispose();
    }
    const r = await resumeSearch(crashed, { data: tinyData(cfg) });
    assert.ok(r.iterations >= 1, 'the run should have rolled back');
    const a = checkpointValues(join(full, 'checkpoints'));
    const b = checkpointValues(join(crashed, 'checkpoints'));
    assert.equal(b.epoch, a.epoch);
    for (const [name, v] of a.values) assert.ok(sameBits(b.values.get(name)!.data, v.data), `${name} differs after crash + resume`);
    const strip = (l: Record<string, unknown>) => {
      const { seconds: _s, ...rest } = l;
      return rest;
    };
    assert.deepEqual(readJsonl(join(crashed, 'metrics.jsonl')).map(strip), readJsonl(join(full, 'metrics.jsonl')).map(strip));
    const ra = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(crashed, 'result.json'), 'utf8'));
    assert.deepEqual(rb, { ...ra, runDir: rb.runDir });
  } finally {
    dir.cleanup();
  }
});
