/**
 * The recurrent-cell search end to end on a tiny model and corpus: the configuration (defaults of
 * docs/lm.md, errors naming the field), the run folder (perplexity in metrics.jsonl, Hessian lines,
 * genotypes.jsonl in the RNN repr, result.json), resume after a crash (same numbers as an
 * uninterrupted run), the DARTS-ADA rollback mechanics, DARTS-ES stopping, and an R-DARTS grid.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { DEFAULT_RNN_CONFIG, resolveRnnConfig } from '../../src/search/rnn/config.js';
import { parseRnnGenotypeRepr } from '../../src/nas/rnn/repr.js';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { readRnnMetrics } from '../../src/experiments/lm-format.js';
import { RnnSearchTrainer } from '../../src/search/rnn/trainer.js';
import { liveTensors } from '../../src/torch/index.js';
import { buildRnnPlugins } from '../../src/search/rnn/methods.js';
import type { RnnSearchPlugin } from '../../src/search/rnn/plugin.js';
import { RunFolderRecorder } from '../../src/experiments/run-recorder.js';
import { RunDir } from '../../src/experiments/run-dir.js';
import { resumeRnnSearch, runRnnGrid, runRnnSearch } from '../../src/experiments/lm-search-run.js';
import { checkpointValues, readJsonl, sameBits } from '../search/helpers.js';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import { markovCorpus, tinyRnnConfig } from './helpers.js';

pinTestThreads();

const noSeconds = (l: Record<string, unknown>) => JSON.parse(JSON.stringify(l, (k, v) => (k === 'seconds' ? undefined : v)));

test('defaults are DARTS rnn/train_search.py’s; errors name the field', () => {
  const d = DEFAULT_RNN_CONFIG;
  assert.deepEqual(
    [d.lr, d.gradClip, d.batchSize, d.bptt, d.weightDecay, d.archLr, d.archWeightDecay, d.archBetas, d.epochs, d.emsize, d.nhid, d.evalBatchSize],
    [20, 0.25, 256, 35, 5e-7, 3e-3, 1e-3, [0.9, 0.999], 50, 300, 300, 10],
  );
  assert.deepEqual([d.dropout, d.dropouth, d.dropoutx, d.dropouti, d.dropoute], [0.75, 0.25, 0.75, 0.2, 0]);
  assert.deepEqual(d.seqLen, { mode: 'halve', maxSeqLenDelta: 20 });
  assert.equal(resolveRnnConfig(undefined, { space: 'RNN' }).space, 'rnn');
  assert.throws(() => resolveRnnConfig(undefined, { batchSize: 0 }), (e: unknown) => e instanceof ConfigError && /batchSize: must be ≥ 1/.test(e.message));
  assert.throws(() => resolveRnnConfig({ layers: 8 }, {}), (e: unknown) => e instanceof ConfigError && e.message.includes("'layers'"));
  assert.throws(() => resolveRnnConfig(undefined, { dropouth: 1 }), (e: unknown) => e instanceof ConfigError && e.message.includes('dropouth'));
  assert.throws(() => resolveRnnConfig(undefined, { method: 'rs-ws' }), (e: unknown) => e instanceof ConfigError && e.message.includes('method'));
  assert.throws(() => resolveRnnConfig(undefined, { emsize: 8 }), (e: unknown) => e instanceof ConfigError && /emsize \(8\) and nhid \(300\)/.test(e.message));
});

test('a run folder: perplexity per epoch, Hessian lines, genotypes in the RNN repr, result.json', async () => {
  const tmp = tempDir('lm-run');
  try {
    const cfg = tinyRnnConfig({ epochs: 2 });
    const r = await runRnnSearch(cfg, { out: tmp.path, corpus: markovCorpus() });
    assert.equal(r.epochsRun, 2);
    const lines = readRnnMetrics(tmp.path).map((l) => l.value);
    const epochs = lines.filter((l) => l.kind === 'epoch') as Array<{ train: { loss: number; ppl: number }; valid: { loss: number; ppl: number }; steps: number; tokens: number }>;
    assert.equal(epochs.length, 2);
    for (const e of epochs) {
      assert.equal(e.valid.ppl, Math.exp(e.valid.loss));
      assert.equal(e.train.ppl, Math.exp(e.train.loss));
      assert.equal(e.steps, 3);
      assert.ok(e.tokens > 0 && e.tokens % 4 === 0, 'tokens = Σ seq_len × batch');
      // a model that knows nothing has perplexity ≈ vocabulary size (17 words)
      assert.ok(e.valid.ppl > 2 && e.valid.ppl < 40, `valid ppl ${e.valid.ppl}`);
    }
    const hess = lines.filter((l) => l.kind === 'hessian') as Array<{ maxEigenvalue: number; eigenvalues: number[]; shift: number }>;
    assert.equal(hess.length, 2, 'hessian every epoch');
    for (const h of hess) {
      assert.ok(Number.isFinite(h.maxEigenvalue));
      assert.equal(h.shift, 1e-3);
      assert.ok(h.eigenvalues[0]! >= h.eigenvalues[1]!);
    }
    const gl = readJsonl(join(tmp.path, 'genotypes.jsonl'));
    assert.equal(gl.length, 2);
    const g = parseRnnGenotypeRepr(gl[1]!.repr as string);
    assert.equal(g.recurrent.length, 8);
    assert.deepEqual(gl[1]!.genotype, { recurrent: g.recurrent, concat: g.concat });
    const alphas = gl[1]!.alphas as number[][];
    assert.equal(alphas.length, 36);
    assert.ok(alphas.every((row) => row.length === 5 && Math.abs(row.reduce((a, b) => a + b, 0) - 1) < 1e-6));
    const res = JSON.parse(readFileSync(join(tmp.path, 'result.json'), 'utf8'));
    assert.equal(res.space, 'rnn');
    assert.equal(res.repr, gl[1]!.repr);
    assert.deepEqual(res.finalValid, epochs[1]!.valid);
    const conf = JSON.parse(readFileSync(join(tmp.path, 'config.json'), 'utf8'));
    assert.equal(conf.space, 'rnn');
    assert.equal(conf.alphas, 180);
    assert.equal(conf.vocabulary, 17);
    // search weights by hand: embedding V·H (tied decoder) + decoder bias V + W0 (2H)·2H + 8 W_i H·2H
    assert.equal(conf.parameters, 17 * 6 + 17 + 12 * 12 + 8 * 6 * 12);
  } finally {
    tmp.cleanup();
  }
});

test('a crash in epoch 2, then resume: the same metrics, genotypes and final tensors as an uninterrupted run', async () => {
  const tmp = tempDir('lm-resume');
  try {
    const cfg = tinyRnnConfig({ epochs: 3, order: 'second' });
    const corpus = markovCorpus(2);
    const full = join(tmp.path, 'full');
    const crashed = join(tmp.path, 'crashed');
    await runRnnSearch(cfg, { out: full, corpus });
    await assert.rejects(
      runRnnSearch(cfg, {
        out: crashed,
        corpus,
        onEvent: (e) => {
          if (e.type === 'step' && e.epoch === 2 && e.step === 1) throw new Error('simulated crash');
        },
      }),
      /simulated crash/,
    );
    assert.deepEqual(listCheckpoints(join(crashed, 'checkpoints')), [0, 1]);
    await resumeRnnSearch(crashed, { corpus });
    const a = readJsonl(join(full, 'metrics.jsonl')).map(noSeconds);
    const b = readJsonl(join(crashed, 'metrics.jsonl')).map(noSeconds);
    assert.equal(b.filter((l) => l.kind === 'epoch').length, 3, 'no epoch duplicated or lost');
    assert.deepEqual(b, a);
    assert.deepEqual(readJsonl(join(crashed, 'genotypes.jsonl')), readJsonl(join(full, 'genotypes.jsonl')));
    const ca = checkpointValues(join(full, 'checkpoints'));
    const cb = checkpointValues(join(crashed, 'checkpoints'));
    assert.equal(ca.epoch, 2);
    for (const need of ['alpha.recurrent', 'adam.exp_avg.0', 'w.encoder.weight', 'buf.rnns.0.bn.running_mean']) assert.ok(ca.values.has(need), need);
    for (const [n, v] of ca.values) assert.ok(sameBits(cb.values.get(n)!.data, v.data), `${n} differs`);
    assert.deepEqual(JSON.parse(readFileSync(join(crashed, 'result.json'), 'utf8')).finalValid, JSON.parse(readFileSync(join(full, 'result.json'), 'utf8')).finalValid);
  } finally {
    tmp.cleanup();
  }
});

test('rollback (the DARTS-ADA path): back to the target checkpoint, next iteration with the new L2, later checkpoints gone', async () => {
  const tmp = tempDir('lm-rollback');
  try {
    const cfg = tinyRnnConfig({ epochs: 4, order: 'first', hessian: { every: 0 } });
    let fired = false;
    const forcing: RnnSearchPlugin = {
      name: 'force',
      onEpochEnd: (ctx) => {
        if (ctx.epoch === 2 && !fired) {
          fired = true;
          return { action: 'rollback', toEpoch: 0, l2: 1e-3, reason: 'forced' };
        }
      },
    };
    const dir = new RunDir(tmp.path).ensure();
    const t = new RnnSearchTrainer(cfg, markovCorpus(), { plugins: [forcing], recorder: new RunFolderRecorder(dir) });
    try {
      await t.run();
    } finally {
      t.dispose();
    }
    const ep = readJsonl(join(tmp.path, 'metrics.jsonl')).filter((l) => l.kind === 'epoch') as Array<{ epoch: number; iteration: number; l2: number; valid: { loss: number } }>;
    assert.deepEqual(ep.map((l) => [l.epoch, l.iteration]), [[0, 0], [1, 0], [2, 0], [1, 1], [2, 1], [3, 1]]);
    assert.deepEqual(ep.map((l) => l.l2), [5e-7, 5e-7, 5e-7, 1e-3, 1e-3, 1e-3]);
    const ada = readJsonl(join(tmp.path, 'metrics.jsonl')).filter((l) => l.kind === 'ada');
    assert.equal(ada.length, 1);
    assert.equal(ada[0]!.toEpoch, 0);
    assert.notEqual(ep[3]!.valid.loss, ep[1]!.valid.loss, 'the repeated epoch 1 ran with the new L2');
    assert.deepEqual(listCheckpoints(join(tmp.path, 'checkpoints')), [2, 3]);
  } finally {
    tmp.cleanup();
  }
});

test('darts-es and darts-ada compose the Hessian monitor and the rules; an R-DARTS grid picks the lowest perplexity', async () => {
  const es = buildRnnPlugins(tinyRnnConfig({ method: 'darts-es', hessian: { every: 0 } })).map((p) => p.name);
  assert.deepEqual(es, ['hessian', 'early-stop']);
  const ada = buildRnnPlugins(tinyRnnConfig({ method: 'darts-ada' })).map((p) => p.name);
  assert.deepEqual(ada, ['hessian', 'early-stop', 'ada']);
  assert.deepEqual(buildRnnPlugins(tinyRnnConfig({ hessian: { every: 0 } })), []);
  const tmp = tempDir('lm-grid');
  try {
    const cfg = tinyRnnConfig({ method: 'rdarts-dp', epochs: 1, order: 'first', hessian: { every: 0 }, grid: { dropouth: [0, 0.5] } });
    const r = await runRnnGrid(cfg, tmp.path, { corpus: markovCorpus() });
    assert.equal(r.complete, true);
    assert.deepEqual(r.members.map((m) => [m.name, m.dropouth, m.status]), [['dph_0', 0, 'finished'], ['dph_0.5', 0.5, 'finished']]);
    const best = r.members.reduce((a, b) => (a.finalValidPpl! <= b.finalValidPpl! ? a : b));
    assert.equal(r.selected, best.name);
    assert.notEqual(r.members[0]!.finalValidPpl, r.members[1]!.finalValidPpl);
    assert.equal(JSON.parse(readFileSync(join(tmp.path, 'runs', 'dph_0.5', 'config.json'), 'utf8')).dropouth, 0.5);
    assert.ok(existsSync(join(tmp.path, 'result.json')));
    // the same command again continues (nothing to do) and a different configuration is refused
    assert.equal((await runRnnGrid(cfg, tmp.path, { corpus: markovCorpus() })).selected, r.selected);
    await assert.rejects(runRnnGrid({ ...cfg, lr: 10 }, tmp.path, { corpus: markovCorpus() }), ConfigError);
  } finally {
    tmp.cleanup();
  }
});

test('tensor handles: epochs of second-order steps with Hessian measurements keep liveTensors() stable', async () => {
  const cfg = tinyRnnConfig({ epochs: 4, stepsPerEpoch: 4, order: 'second', hessian: { every: 2, lanczosIterations: 4, topK: 1 } });
  const counts: number[] = [];
  const probe: RnnSearchPlugin = { name: 'probe', onEpochEnd: () => void counts.push(liveTensors()) };
  const t = new RnnSearchTrainer(cfg, markovCorpus(), { plugins: [...buildRnnPlugins(cfg), probe] });
  try {
    await t.run();
  } finally {
    t.dispose();
  }
  assert.equal(counts.length, 4);
  // after epoch 0 every optimiser state exists; from then on every per-step tensor must be freed by its scope
  assert.deepEqual(counts.slice(1), [counts[1], counts[1], counts[1]], `live tensors per epoch: ${counts.join(', ')}`);
});

test('DARTS-ES and DARTS-ADA on a hand-made λ_max trace: stop with the stop epoch’s genotype; ADA rolls back with L2 × η, then ignores at the final strength', async () => {
  const g0 = parseRnnGenotypeRepr("Genotype(recurrent=[('tanh', 0), ('relu', 1), ('sigmoid', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))");
  const ctxAt = (epoch: number, lambda: number, logged: Array<Record<string, unknown>>) =>
    ({
      epoch,
      epochs: 10,
      hessian: { maxEigenvalue: lambda },
      earlyStop: null,
      genotypeAt: (e: number) => (e === 0 ? g0 : null),
      log: (l: Record<string, unknown>) => logged.push(l),
      note: () => {},
    }) as unknown as import('../../src/search/rnn/plugin.js').RnnEpochContext;
  const opts = { k: 1, threshold: 0.75, startEpoch: 0 };
  const { RnnEarlyStopPlugin, RnnAdaPlugin } = await import('../../src/search/rnn/methods.js');
  const es = new RnnEarlyStopPlugin('paper', opts, 'stop');
  const logs: Array<Record<string, unknown>> = [];
  assert.equal(es.onEpochEnd(ctxAt(0, 1, logs)), undefined);
  const d = es.onEpochEnd(ctxAt(1, 2, logs));
  assert.deepEqual(d && d.action === 'stop' ? d.genotypeEpoch : null, 0);
  assert.deepEqual(logs.map((l) => l.kind), ['early-stop-check', 'early-stop']);
  assert.equal(logs[1]!.repr, "Genotype(recurrent=[('tanh', 0), ('relu', 1), ('sigmoid', 1), ('identity', 1), ('tanh', 2), ('sigmoid', 5), ('tanh', 3), ('relu', 5)], concat=range(1, 9))");
  // ADA: signal-mode rule + controller; 5e-7 → 5e-6 → 5e-5 (final), then ignore
  const sig = new RnnEarlyStopPlugin('paper', opts, 'signal');
  const ada = new RnnAdaPlugin({ l2Init: 5e-7, eta: 10, l2Max: 5e-5 });
  const alog: Array<Record<string, unknown>> = [];
  const decisions: unknown[] = [];
  const trace = [1, 2, 4, 8, 16];
  trace.forEach((lam, e) => {
    const c = ctxAt(e, lam, alog);
    sig.onEpochEnd(c);
    decisions.push(ada.onEpochEnd(c) ?? null);
  });
  const rb = decisions.filter((x) => x !== null && (x as { action: string }).action === 'rollback') as Array<{ l2: number; toEpoch: number }>;
  assert.deepEqual(rb.map((x) => [x.toEpoch, Number(x.l2.toPrecision(3))]), [[0, 5e-6], [1, 5e-5]]);
  assert.ok(alog.some((l) => l.kind === 'darts-es-genotype' && l.stopEpoch === 0));
  assert.ok(alog.some((l) => l.kind === 'ada' && l.action === 'ignore'), 'the third firing is ignored: 5e-5 is final');
});

test('a stop decision ends the search with the stop epoch’s genotype; resuming a stopped run keeps it stopped', async () => {
  const tmp = tempDir('lm-stop');
  try {
    const cfg = tinyRnnConfig({ epochs: 4, order: 'first', hessian: { every: 0 } });
    const dir = new RunDir(tmp.path).ensure();
    const stopper: RnnSearchPlugin = { name: 'stopper', onEpochEnd: (ctx) => (ctx.epoch === 1 ? { action: 'stop', reason: 'forced', genotypeEpoch: 0 } : undefined) };
    const t = new RnnSearchTrainer(cfg, markovCorpus(), { plugins: [stopper], recorder: new RunFolderRecorder(dir) });
    dir.writeConfig(t.describe());
    let r;
    try {
      r = await t.run();
    } finally {
      t.dispose();
    }
    assert.equal(r.stopReason, 'early-stop');
    assert.equal(r.genotypeEpoch, 0);
    assert.equal(r.epochsRun, 2);
    const gl = readJsonl(join(tmp.path, 'genotypes.jsonl'));
    assert.equal(r.repr, gl[0]!.repr);
    const again = await resumeRnnSearch(tmp.path, { corpus: markovCorpus() });
    assert.equal(again.stopReason, 'early-stop');
    assert.equal(again.epochsRun, 2, 'no epoch ran after the stop');
    assert.equal(readJsonl(join(tmp.path, 'metrics.jsonl')).filter((l) => l.kind === 'epoch').length, 2);
  } finally {
    tmp.cleanup();
  }
});
