/**
 * The collapse monitor (docs/collapse-monitor.md): each indicator on hand-made α and genotypes
 * (values worked out by hand in the comments), the skip-count rule's decisions on a constructed
 * sequence and its state round trip, the plug-in in stop and signal mode, the composition with
 * darts / darts-es / darts-ada, and a tiny search: one collapse line per epoch, consistent with
 * genotypes.jsonl, bitwise the same after resuming from an earlier checkpoint, read back by the
 * run reader and drawn by the report.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';
import type { Genotype } from '../../src/nas/genotype.js';
import { alphaEntropy, collapseMeasurement, genotypeChurn, parameterFreeMass, skipCount } from '../../src/search/methods/collapse-metrics.js';
import { CollapseStopPlugin, SkipCountRule, parseCollapseStop } from '../../src/search/methods/collapse-stop.js';
import { buildPlugins } from '../../src/search/methods/index.js';
import type { EpochContext } from '../../src/search/plugin.js';
import { runSearch, resumeSearch } from '../../src/experiments/search-run.js';
import { checkpointPath, listCheckpoints } from '../../src/experiments/checkpoint.js';
import { readRun } from '../../src/experiments/run-reader.js';
import { buildReport } from '../../src/experiments/reports.js';
import { resolveConfig } from '../../src/search/config.js';
import { ConfigError } from '../../src/errors.js';
import { checkpointValues, readJsonl, tinyConfig, tinyData } from '../search/helpers.js';

pinTestThreads();

const close = (a: number, b: number, tol = 1e-12) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

// Two-node genotypes (4 genes per cell) are enough for the counting rules.
const G = (normal: Genotype['normal'], reduce: Genotype['reduce'] = normal): Genotype => ({ normal, normalConcat: [2, 3], reduce, reduceConcat: [2, 3] });

test('parameter-free mass: mean over edges of the weight on none/noise/skip/pools', () => {
  const ops = [
    ['none', 'skip_connect', 'sep_conv_3x3'],
    ['max_pool_3x3', 'sep_conv_3x3', 'avg_pool_3x3'],
    ['noise', 'dil_conv_3x3'],
  ];
  const w = [
    [0.5, 0.3, 0.2], // none + skip = 0.8
    [0.1, 0.6, 0.3], // max + avg  = 0.4
    [0.25, 0.75], // noise       = 0.25
  ];
  // (0.8 + 0.4 + 0.25) / 3 = 1.45 / 3
  close(parameterFreeMass(w, ops), 1.45 / 3);
  close(parameterFreeMass([[0, 1]], [['sep_conv_3x3', 'dil_conv_5x5']]), 0);
  assert.throws(() => parameterFreeMass(w, ops.slice(0, 2)), /shape/);
});

test('α entropy: mean over edges of −Σ p ln p, 0·ln 0 = 0', () => {
  // uniform over 2 → ln 2; one-hot → 0; uniform over 4 → ln 4 = 2 ln 2. Mean = 3 ln 2 / 3 = ln 2
  close(alphaEntropy([[0.5, 0.5], [1, 0], [0.25, 0.25, 0.25, 0.25]]), Math.LN2);
  // (0.9, 0.1): −(0.9 ln 0.9 + 0.1 ln 0.1)
  close(alphaEntropy([[0.9, 0.1]]), -(0.9 * Math.log(0.9) + 0.1 * Math.log(0.1)));
});

test('skip count and churn on hand-made genotypes', () => {
  const a = G([['skip_connect', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['skip_connect', 0]], [['max_pool_3x3', 0], ['skip_connect', 1], ['max_pool_3x3', 0], ['avg_pool_3x3', 2]]);
  assert.equal(skipCount(a), 3);
  assert.equal(skipCount(a, 'reduce'), 1);
  // node 0: genes swapped in order only → 0 changed; node 1: (2,skip) kept, (0,skip) → (1,skip): 1 changed
  const b = G([['sep_conv_3x3', 1], ['skip_connect', 0], ['skip_connect', 2], ['skip_connect', 1]], a.reduce);
  assert.equal(genotypeChurn(a, b, 'normal'), 1);
  assert.equal(genotypeChurn(a, b, 'reduce'), 0);
  // same source, other op counts as a change: node 0 (0, skip) → (0, dil_conv_3x3); node 1 both new ops
  const c = G([['dil_conv_3x3', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 2], ['dil_conv_5x5', 0]], a.reduce);
  assert.equal(genotypeChurn(a, c, 'normal'), 3);
  assert.equal(genotypeChurn(a, a, 'normal'), 0);
});

test('collapseMeasurement puts the pieces together; the accuracy gap is train − valid', () => {
  const g = G([['skip_connect', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['skip_connect', 0]]);
  const m = collapseMeasurement({
    weights: { normal: [[0.5, 0.5]], reduce: [[1, 0]] },
    ops: { normal: [['skip_connect', 'sep_conv_3x3']], reduce: [['sep_conv_3x3', 'avg_pool_3x3']] },
    genotype: g,
    previous: null,
    trainAcc: 0.875,
    validAcc: 0.625,
  });
  assert.deepEqual(m.paramFreeMass, { normal: 0.5, reduce: 0 });
  close(m.entropy.normal, Math.LN2);
  assert.equal(m.entropy.reduce, 0);
  assert.deepEqual(m.skips, { normal: 3, reduce: 3 });
  assert.equal(m.churn, null, 'no previous genotype at the first epoch');
  assert.equal(m.accGap, 0.25);
  assert.equal(collapseMeasurement({ weights: { normal: [], reduce: [] }, ops: { normal: [], reduce: [] }, genotype: g, previous: g, trainAcc: NaN, validAcc: 0.5 }).accGap, null);
});

test('skip-count rule: decisions on a constructed sequence, patience, and an exact state round trip', () => {
  // k = 2, patience 1: skips 0, 1, 2 → fires at epoch 2 and returns epoch 1 (the last with < 2)
  const r = new SkipCountRule(2);
  assert.equal(r.update(0, 0).fired, false);
  assert.equal(r.update(1, 1).fired, false);
  assert.deepEqual(r.update(2, 2), { skips: 2, streak: 1, fired: true, stopEpoch: 1 });
  // already collapsed at epoch 0: fires at once and returns epoch 0
  assert.deepEqual(new SkipCountRule(2).update(0, 4), { skips: 4, streak: 1, fired: true, stopEpoch: 0 });
  // patience 2: 0, 2, 1, 2, 2 → the first streak (epoch 1) is broken at epoch 2; fires at epoch 4, returns epoch 2
  const seq = [0, 2, 1, 2, 2];
  const p = new SkipCountRule(2, 2);
  const fired = seq.map((s, e) => p.update(e, s));
  assert.deepEqual(fired.map((u) => u.fired), [false, false, false, false, true]);
  assert.equal(fired[4]!.stopEpoch, 2);
  // state after epoch 2, through JSON, gives the same later decisions
  const q = new SkipCountRule(2, 2);
  seq.slice(0, 3).forEach((s, e) => q.update(e, s));
  const back = SkipCountRule.fromState(JSON.parse(JSON.stringify(q.getState())));
  assert.deepEqual([back.update(3, 2), back.update(4, 2)], fired.slice(3));
  // a rolled-back epoch replaces the later history
  const rb = SkipCountRule.fromState(p.getState());
  assert.equal(rb.update(3, 0).fired, false);
  assert.deepEqual(rb.history.map((h) => h.epoch), [0, 1, 2, 3]);
});

test('--collapse-stop syntax; a bad config value names the field', () => {
  assert.deepEqual(parseCollapseStop('skips:2'), { rule: 'skips', k: 2, patience: 1 });
  assert.deepEqual(parseCollapseStop('skips:3:2'), { rule: 'skips', k: 3, patience: 2 });
  for (const bad of ['skips', 'skips:0', 'skip:2', 'skips:2:0', 'skips:x']) assert.throws(() => parseCollapseStop(bad), ConfigError, bad);
  assert.throws(() => resolveConfig(undefined, { collapseStop: 'skips:zero' }, 'test'), (e: unknown) => e instanceof ConfigError && /collapseStop: must be 'skips:K'/.test(e.message));
  assert.equal(resolveConfig(undefined, {}, 'test').collapseStop, null);
  // an older config.json without the new fields still validates, with the defaults
  const old = resolveConfig(undefined, {}, 'test') as Record<string, unknown>;
  delete old.collapseStop;
  (old.analysis as Record<string, unknown>) = { discretization: 'end' };
  const again = resolveConfig(old, {}, 'test');
  assert.equal(again.analysis.collapse, 'auto');
});

function fakeContext(epoch: number, genotype: Genotype, history: Map<number, Genotype>): EpochContext & { lines: unknown[] } {
  const lines: unknown[] = [];
  return {
    epoch, epochs: 10, iteration: 0, l2: 3e-4, hessian: null, genotype, earlyStop: null,
    model: null as never, train: null, valid: null,
    evaluate: () => { throw new Error('not used'); },
    valBatch: () => { throw new Error('not used'); },
    genotypeAt: (e) => history.get(e) ?? null,
    log: (l) => lines.push(l),
    note: () => {},
    lines,
  };
}

test('the skip-count plug-in: stop mode returns a stop decision, signal mode tells DARTS-ADA through the context', () => {
  const calm = G([['sep_conv_3x3', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['sep_conv_3x3', 0]]);
  const collapsed = G([['skip_connect', 0], ['sep_conv_3x3', 1], ['skip_connect', 2], ['sep_conv_3x3', 0]]);
  const hist = new Map([[0, calm], [1, collapsed]]);
  for (const mode of ['stop', 'signal'] as const) {
    const p = new CollapseStopPlugin(parseCollapseStop('skips:2'), mode);
    const c0 = fakeContext(0, calm, hist);
    assert.equal(p.onEpochEnd(c0), undefined);
    assert.equal(c0.lines.length, 0);
    const c1 = fakeContext(1, collapsed, hist);
    const d = p.onEpochEnd(c1);
    assert.deepEqual(c1.lines, [{ kind: 'early-stop', rule: 'skips:2', detectEpoch: 1, stopEpoch: 0, repr: c1.lines.length ? (c1.lines[0] as { repr: string }).repr : null }]);
    assert.match((c1.lines[0] as { repr: string }).repr, /sep_conv_3x3/);
    if (mode === 'stop') {
      assert.ok(d && d.action === 'stop');
      assert.equal(d.genotypeEpoch, 0);
      assert.equal(c1.earlyStop, null);
    } else {
      assert.equal(d, undefined);
      assert.deepEqual(c1.earlyStop, { detectEpoch: 1, stopEpoch: 0, rule: 'skips:2' });
    }
  }
});

test('composition: the monitor runs when λ_max is measured (auto) or when on; the rule sits with darts, darts-es and before ADA', () => {
  const names = (over: Parameters<typeof tinyConfig>[0]) => buildPlugins(tinyConfig(over)).map((p) => p.name);
  assert.ok(!names({}).includes('collapse'), 'auto without a Hessian monitor: off');
  assert.ok(names({ hessian: { every: 1 } }).includes('collapse'));
  assert.ok(names({ analysis: { collapse: 'on' } }).includes('collapse'));
  assert.ok(!names({ hessian: { every: 1 }, analysis: { collapse: 'off' } }).includes('collapse'));
  assert.ok(!names({ method: 'rs-ws', analysis: { collapse: 'on' }, collapseStop: 'skips:2' }).some((n) => n.startsWith('collapse')));
  assert.deepEqual(names({ collapseStop: 'skips:2' }).filter((n) => n === 'collapse-stop'), ['collapse-stop']);
  const es = names({ method: 'darts-es', collapseStop: 'skips:2' });
  assert.ok(es.indexOf('early-stop') < es.indexOf('collapse-stop'));
  const ada = names({ method: 'darts-ada', collapseStop: 'skips:2' });
  assert.ok(ada.indexOf('early-stop') < ada.indexOf('collapse-stop') && ada.indexOf('collapse-stop') < ada.indexOf('ada'), ada.join(','));
  const adaPlugin = buildPlugins(tinyConfig({ method: 'darts-ada', collapseStop: 'skips:2' })).find((p) => p.name === 'collapse-stop') as CollapseStopPlugin;
  assert.equal(adaPlugin.mode, 'signal');
});

test('a tiny search: one collapse line per epoch matching genotypes.jsonl; resume from an earlier checkpoint gives the same log; the reader and the report take it', async () => {
  const dir = tempDir('collapse');
  try {
    // skips:9 never fires in a 4-node cell (8 genes): the rule runs and keeps state without stopping
    const cfg = tinyConfig({ epochs: 3, keepCheckpoints: 3, analysis: { collapse: 'on', discretization: 'off' }, collapseStop: 'skips:9' });
    const out = join(dir.path, 'run');
    await runSearch(cfg, { out, data: tinyData(cfg) });
    const lines = readJsonl(join(out, 'metrics.jsonl'));
    const col = lines.filter((l) => l.kind === 'collapse') as Array<Record<string, any>>;
    assert.deepEqual(col.map((l) => l.epoch), [0, 1, 2]);
    const epochsL = lines.filter((l) => l.kind === 'epoch') as Array<Record<string, any>>;
    const genos = readJsonl(join(out, 'genotypes.jsonl')) as Array<Record<string, any>>;
    for (let e = 0; e < 3; e++) {
      const g = genos[e]!;
      // S3 = {none, skip_connect, sep_conv_3x3}: the parameter-free mass is columns 0 and 1
      const mass = (rows: number[][]) => rows.reduce((a, r) => a + r[0]! + r[1]!, 0) / rows.length;
      close(col[e]!.paramFreeMass.normal, mass(g.alphas.normal), 1e-12);
      close(col[e]!.paramFreeMass.reduce, mass(g.alphas.reduce), 1e-12);
      assert.equal(col[e]!.skips.normal, (g.genotype.normal as Array<[string, number]>).filter(([op]) => op === 'skip_connect').length);
      close(col[e]!.accGap, epochsL[e]!.train.acc - epochsL[e]!.valid.acc, 0);
      assert.ok(col[e]!.entropy.normal > 0 && col[e]!.entropy.normal <= Math.log(3) + 1e-12);
    }
    assert.equal(col[0]!.churn, null);
    assert.ok(Number.isInteger(col[1]!.churn.normal) && col[1]!.churn.normal >= 0 && col[1]!.churn.normal <= 8);
    const metrics = readFileSync(join(out, 'metrics.jsonl'), 'utf8');
    const genotypes = readFileSync(join(out, 'genotypes.jsonl'), 'utf8');

    // the checkpoint of epoch 1 holds the rule's history of epochs 0 and 1
    const root = join(out, 'checkpoints');
    const st = checkpointValues(root, 1).state as { plugins: Record<string, { history: Array<{ epoch: number }> }> };
    assert.deepEqual(st.plugins['collapse-stop']!.history.map((h) => h.epoch), [0, 1]);
    // "killed" after epoch 1: resume cuts the logs back and re-runs epoch 2
    rmSync(checkpointPath(root, 2), { recursive: true });
    assert.deepEqual(listCheckpoints(root), [0, 1]);
    await resumeSearch(out, { data: tinyData(cfg) });
    const strip = (s: string) => s.split('\n').filter(Boolean).map((l) => { const { seconds: _s, ...r } = JSON.parse(l) as Record<string, unknown>; return r; });
    assert.deepEqual(strip(readFileSync(join(out, 'metrics.jsonl'), 'utf8')), strip(metrics));
    assert.equal(readFileSync(join(out, 'genotypes.jsonl'), 'utf8'), genotypes);

    const run = readRun(out);
    assert.deepEqual(run.collapses.map((c) => c.epoch), [0, 1, 2]);
    assert.equal(run.collapses[2]!.skips.normal, col[2]!.skips.normal);
    assert.ok(!run.warnings.some((w) => /collapse/.test(w)));
    const r = await buildReport(out);
    assert.ok(r.files.includes(join(out, 'plots', 'collapse.svg')), r.files.join(', '));
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    assert.match(html, /param-free mass N/);
    assert.match(html, /skips N/);
  } finally {
    dir.cleanup();
  }
});

test('darts-ada + skips:1 on S2: the rule signals, DARTS-ADA rolls back and raises L2, the search finishes', async () => {
  const dir = tempDir('collapse-ada');
  try {
    // S2 = {skip_connect, sep_conv_3x3}: a random α puts a skip in the normal cell at once, so the
    // streak starts at epoch 0; ADA needs an earlier checkpoint, so the signal comes at epoch 1 (to epoch 0)
    const cfg = tinyConfig({ method: 'darts-ada', space: 's2', order: 'first', epochs: 3, collapseStop: 'skips:1', hessian: { every: 1 }, analysis: { discretization: 'off' }, ada: { l2Max: 3e-3 } });
    const out = join(dir.path, 'run');
    const r = await runSearch(cfg, { out, data: tinyData(cfg) });
    const lines = readJsonl(join(out, 'metrics.jsonl')) as Array<Record<string, any>>;
    const skips = lines.filter((l) => l.kind === 'collapse').map((l) => l.skips.normal as number);
    assert.ok(skips[0]! >= 1, `expected a skip at epoch 0, got ${skips.join(',')}`);
    const es = lines.filter((l) => l.kind === 'early-stop' && l.rule === 'skips:1');
    assert.ok(es.length >= 1);
    assert.deepEqual([es[0]!.detectEpoch, es[0]!.stopEpoch], [1, 0]);
    const rb = lines.filter((l) => l.kind === 'ada' && l.action === 'rollback');
    assert.ok(rb.length >= 1 && rb[0]!.toEpoch === 0 && rb[0]!.newL2 > rb[0]!.previousL2);
    assert.equal(r.stopReason, 'completed');
    assert.ok(r.iterations >= 1);
  } finally {
    dir.cleanup();
  }
});

