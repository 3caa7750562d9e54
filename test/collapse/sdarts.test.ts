/**
 * SDARTS-RS / SDARTS-ADV (docs/sdarts.md): the clip and the ε ramp by hand; RS noise inside ±ε
 * and fed to the weight step only (never to the architecture step); PGD climbs the training loss
 * of a tiny supernet and stays in the ε-ball; both resume bitwise from an earlier checkpoint.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { tidy } from '../../src/torch/index.js';
import { Rng } from '../../src/util/rng.js';
import { ConfigError } from '../../src/errors.js';
import { resolveConfig } from '../../src/search/config.js';
import { buildPlugins } from '../../src/search/methods/index.js';
import { SdartsPlugin } from '../../src/search/methods/sdarts.js';
import { clipRows, epsilonAt, pgdPerturbation, randomSmoothing } from '../../src/search/methods/sdarts-perturb.js';
import { SearchTrainer } from '../../src/search/trainer.js';
import { runSearch, resumeSearch } from '../../src/experiments/search-run.js';
import { checkpointPath } from '../../src/experiments/checkpoint.js';
import { makeBatch, trainValSplit } from '../../src/data/index.js';
import { checkpointValues, sameBits, tinyConfig, tinyData } from '../search/helpers.js';

pinTestThreads();

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('clip: clamp to [0, 1], renormalise; an all-clamped row goes to its argmax; the ε ramp', () => {
  // [0.5, −0.1, 0.7] → [0.5, 0, 0.7] / 1.2
  const [r] = clipRows([[0.5, -0.1, 0.7]]);
  close(r![0]!, 0.5 / 1.2);
  assert.equal(r![1], 0);
  close(r![2]!, 0.7 / 1.2);
  assert.deepEqual(clipRows([[-0.2, -0.1, -0.3]]), [[0, 1, 0]]);
  // 0.03 + 0.27·e/50
  close(epsilonAt(0, 50, 0.3, 0.03), 0.03);
  close(epsilonAt(25, 50, 0.3, 0.03), 0.165);
  close(epsilonAt(49, 50, 0.3, 0.03), 0.03 + 0.27 * 0.98);
});

test('RS noise stays within ±ε; the weights are clip(s + δ), rows on the simplex', () => {
  const rng = new Rng(5);
  const s = { normal: Array.from({ length: 14 }, () => [0.2, 0.3, 0.5]), reduce: Array.from({ length: 14 }, () => [0.6, 0.4]) };
  let maxAbs = 0;
  for (let i = 0; i < 200; i++) {
    const r = randomSmoothing(s, 0.1, rng);
    for (const c of ['normal', 'reduce'] as const) {
      r.delta[c].flat().forEach((d) => (maxAbs = Math.max(maxAbs, Math.abs(d))));
      assert.deepEqual(r.weights[c], clipRows(s[c].map((row, e) => row.map((v, k) => v + r.delta[c][e]![k]!))));
      for (const row of r.weights[c]) close(row.reduce((a, b) => a + b, 0), 1, 1e-12);
    }
  }
  assert.ok(maxAbs <= 0.1, `noise ${maxAbs} outside ±0.1`);
  assert.ok(maxAbs > 0.09, 'the noise should use its whole range');
});

test('PGD on a linear loss: the ascended coordinate ends exactly at +ε, the loss grows, δ stays in the ball', () => {
  const s = { normal: [[0.5, 0.5]], reduce: [[1, 0]] };
  // L(w) = w_normal[0][0]: gradient 1 there, 0 elsewhere
  const f = (w: typeof s) => ({ loss: w.normal[0]![0]!, grad: { normal: [[1, 0]], reduce: [[0, 0]] } });
  const r = pgdPerturbation(s, 0.2, 7, f, new Rng(3), (w) => w.normal[0]![0]!);
  close(r.delta.normal[0]![0]!, 0.2, 1e-15); // from ≥ −ε, 7 steps of 2ε/7 reach +ε, then clamp
  for (const d of [...r.delta.normal.flat(), ...r.delta.reduce.flat()]) assert.ok(Math.abs(d) <= 0.2);
  assert.equal(r.reverted, false);
  assert.ok(r.trace.at(-1)! > r.lossBefore);
  // a loss that falls whatever δ does: the perturbation is dropped (δ = 0, weights = s)
  const falling = pgdPerturbation(s, 0.2, 2, (w) => ({ loss: -1, grad: { normal: w.normal.map((x) => x.map(() => 0)), reduce: w.reduce.map((x) => x.map(() => 0)) } }), new Rng(3), (w) => (w === s ? 0 : -1));
  assert.equal(falling.reverted, true);
  assert.deepEqual(falling.weights, s);
});

function trainBatch(cfg: ReturnType<typeof tinyConfig>) {
  const data = tinyData(cfg);
  const split = trainValSplit(data.n, cfg.trainPortion);
  const b = makeBatch(data, split.train.subarray(0, 8), { augment: false }, new Rng(1));
  return { data, b };
}

test('SDARTS-ADV PGD raises the training loss of a tiny supernet over its steps and keeps δ in the ε-ball; the mode is put back', async () => {
  const cfg = tinyConfig({ sdarts: { mode: 'adv' } });
  const { data, b } = trainBatch(cfg);
  const trainer = new SearchTrainer(cfg, { train: data }, { plugins: [] });
  try {
    const { tensor } = await import('../../src/torch/index.js');
    const plugin = new SdartsPlugin({ mode: 'adv', epsilon: 0.3, epsilonStart: 0.3, steps: 7, randomStart: true, seed: 1 });
    plugin.epsilon = 0.3;
    trainer.model.train();
    tidy(() => {
      const batch = { x: tensor(b.x, b.shape), y: tensor(b.y, [b.y.length]).to('int64') };
      plugin.weightsForStep(trainer.model, batch);
    });
    assert.equal(trainer.model.training, true, 'PGD must put train mode back');
    const last = plugin.last!;
    assert.equal(last.reverted, false);
    const trace = last.trace!;
    assert.equal(trace.length, 8);
    assert.ok(trace.at(-1)! > trace[0]!, `PGD did not raise the loss: ${trace.join(', ')}`);
    for (const d of [...last.delta.normal.flat(), ...last.delta.reduce.flat()]) assert.ok(Math.abs(d) <= 0.3 + 1e-15, `δ ${d} outside the ball`);
  } finally {
    trainer.dispose();
  }
});

test('SDARTS-RS: the weight step gets softmax(α) + noise, the architecture step never does', async () => {
  const cfg = tinyConfig({ epochs: 1, sdarts: { mode: 'rs' } });
  const plugins = buildPlugins(cfg);
  const sd = plugins.find((p) => p.name === 'sdarts') as SdartsPlugin;
  assert.ok(sd);
  const trainer = new SearchTrainer(cfg, { train: tinyData(cfg) }, { plugins });
  try {
    let inArch = false;
    const archCalls: boolean[] = [];
    const weightCalls: number[][] = [];
    const archStep = trainer.architect.step.bind(trainer.architect);
    trainer.architect.step = ((...a: Parameters<typeof archStep>) => {
      inArch = true;
      try {
        return archStep(...a);
      } finally {
        inArch = false;
      }
    }) as typeof archStep;
    const model = trainer.model;
    const fwd = model.forward.bind(model);
    model.forward = ((x, o = {}) => {
      if (inArch) archCalls.push(o.weights !== undefined);
      else if (model.training && o.weights) weightCalls.push(o.weights.normal.toNumbers());
      return fwd(x, o);
    }) as typeof model.forward;
    await trainer.run();
    assert.ok(archCalls.length > 0 && archCalls.every((w) => !w), 'an architecture-step forward got explicit weights');
    assert.equal(weightCalls.length, cfg.stepsPerEpoch, 'one perturbed forward per weight step');
    // the last weight step's weights are the plug-in's clip(s + δ), δ within ±ε(0) = 0.03
    const lastFed = weightCalls.at(-1)!;
    const expect = sd.last!.weights.normal.flat();
    lastFed.forEach((v, i) => close(v, expect[i]!, 1e-6));
    for (const d of [...sd.last!.delta.normal.flat(), ...sd.last!.delta.reduce.flat()]) assert.ok(Math.abs(d) <= 0.03);
    assert.ok(sd.last!.delta.normal.flat().some((d) => d !== 0));
  } finally {
    trainer.dispose();
  }
});

test('configuration: defaults with their sources, rs-ws refused, composition with darts-es and darts-ada', () => {
  const d = resolveConfig(undefined, {}, 'test');
  assert.deepEqual(d.sdarts, { mode: 'off', epsilon: 0.3, epsilonStart: 0.03, steps: 7, randomStart: true });
  assert.throws(() => resolveConfig(undefined, { method: 'rs-ws', sdarts: { mode: 'rs' } }, 'test'), ConfigError);
  for (const method of ['darts', 'darts-es', 'darts-ada'] as const) {
    const names = buildPlugins(tinyConfig({ method, sdarts: { mode: 'adv' } })).map((p) => p.name);
    assert.ok(names.includes('sdarts'), `${method}: ${names.join(',')}`);
    if (method !== 'darts') assert.ok(names.includes('early-stop'));
  }
  assert.ok(!buildPlugins(tinyConfig({})).some((p) => p.name === 'sdarts'));
});

for (const mode of ['rs', 'adv'] as const) {
  test(`SDARTS-${mode.toUpperCase()} with darts-es: resuming from the checkpoint of epoch 1 ends bitwise where the uninterrupted run ended; the perturbation changes α`, async () => {
    const dir = tempDir(`sdarts-${mode}`);
    try {
      const cfg = tinyConfig({ method: 'darts-es', order: 'first', epochs: 3, keepCheckpoints: 3, sdarts: { mode, steps: 2, epsilon: 0.3 }, analysis: { discretization: 'off' } });
      const out = join(dir.path, 'run');
      await runSearch(cfg, { out, data: tinyData(cfg) });
      const root = join(out, 'checkpoints');
      const final = checkpointValues(root, 2);
      const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
      assert.ok(final.state.plugins && (final.state.plugins as Record<string, unknown>).sdarts, 'the noise generator is checkpointed');
      rmSync(checkpointPath(root, 2), { recursive: true });
      await resumeSearch(out, { data: tinyData(cfg) });
      const again = checkpointValues(root, 2);
      for (const [name, v] of final.values) assert.ok(sameBits(again.values.get(name)!.data, v.data), `${name} differs after resume`);
      const strip = (s: string) => s.split('\n').filter(Boolean).map((l) => { const { seconds: _s, ...r } = JSON.parse(l) as Record<string, unknown>; return r; });
      assert.deepEqual(strip(readFileSync(join(out, 'metrics.jsonl'), 'utf8')), strip(metrics));
      // the same search without SDARTS ends elsewhere
      const plain = join(dir.path, 'plain');
      await runSearch({ ...cfg, sdarts: { ...cfg.sdarts, mode: 'off' } }, { out: plain, data: tinyData(cfg) });
      const p = checkpointValues(join(plain, 'checkpoints'), 2);
      const key = [...final.values.keys()].find((k) => /alpha/i.test(k))!;
      assert.ok(key, 'an α tensor in the checkpoint');
      assert.ok(!sameBits(p.values.get(key)!.data, final.values.get(key)!.data), 'SDARTS should change α');
    } finally {
      dir.cleanup();
    }
  });
}
