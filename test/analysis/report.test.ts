import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CheckpointError } from '../../src/errors.js';
import { deriveGenotype, softmaxRows } from '../../src/nas/derive.js';
import { genotypeToJSON } from '../../src/nas/genotype-json.js';
import { formatGenotypeRepr } from '../../src/nas/repr.js';
import { getSpace, type SearchSpace } from '../../src/nas/spaces.js';
import { Rng } from '../../src/util/rng.js';
import { pearson, spearman } from '../../src/analysis/stats.js';
import { trajectoryWithAverage } from '../../src/analysis/plots/index.js';
import { effectiveHistory, rollbacks, summarize } from '../../src/analysis/report/index.js';
import { readRun } from '../../src/experiments/run-reader.js';
import { buildComparison, buildReport } from '../../src/experiments/reports.js';
import { repoRoot } from '../helpers/fixtures.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const MAIN = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const tmp = makeTempDir('report');
after(() => removeDir(tmp));

const TINY3: SearchSpace = {
  name: 'tiny3',
  steps: 4,
  normal: Array.from({ length: 14 }, () => ['skip_connect', 'sep_conv_3x3', 'max_pool_3x3']),
  reduce: Array.from({ length: 14 }, () => ['skip_connect', 'sep_conv_3x3', 'max_pool_3x3']),
};

/** λ_max per (epoch, iteration) of the ADA run: iteration 0 epochs 0..6, rollback at 6 to 3, iteration 1 epochs 4..9. */
function lam(epoch: number, iteration: number): number {
  return iteration === 0 ? 0.1 + 0.05 * epoch : 0.2 + 0.01 * epoch;
}

interface RunSpec {
  space: SearchSpace;
  method: string;
  /** (epoch, iteration) sequence as written. */
  steps: Array<[number, number]>;
  ada?: { epoch: number; toEpoch: number };
  withOps: boolean;
  finalAcc: number;
}

function writeRun(dir: string, spec: RunSpec): void {
  mkdirSync(dir, { recursive: true });
  const rng = new Rng(7);
  const lines: unknown[] = [];
  const genos: unknown[] = [];
  spec.steps.forEach(([epoch, iteration], i) => {
    const acc = spec.finalAcc - 0.02 * (spec.steps.length - 1 - i);
    lines.push({
      kind: 'epoch',
      epoch,
      lr: 0.025,
      l2: iteration === 0 ? 3e-4 : 3e-3,
      dropPath: 0,
      train: { loss: 2 - 0.1 * i, acc: acc + 0.05 },
      valid: { loss: 2.1 - 0.1 * i, acc },
      seconds: 1.5,
      iteration,
      extraField: 'ignored',
    });
    const v = lam(epoch, iteration);
    lines.push({ kind: 'hessian', epoch, maxEigenvalue: v, eigenvalues: [v, v / 2, v / 4], minEigenvalue: -0.01, method: 'full', shift: 0, batches: 1, stderr: null, iteration });
    if (epoch % 3 === 0) lines.push({ kind: 'discretization', epoch, softAcc: acc, discreteAcc: acc - v / 2, drop: v / 2, iteration });
    if (spec.ada && iteration === 0 && epoch === spec.ada.epoch) {
      lines.push({ kind: 'early-stop', epoch, rule: 'code', detectEpoch: epoch, stopEpoch: spec.ada.toEpoch });
      lines.push({ kind: 'ada', epoch, action: 'rollback', toEpoch: spec.ada.toEpoch, previousL2: 3e-4, newL2: 3e-3, iteration: 1 });
    }
    const an = spec.space.normal.map((ops) => ops.map(() => rng.normal()));
    const ar = spec.space.reduce.map((ops) => ops.map(() => rng.normal()));
    const g = deriveGenotype(an, ar, spec.space);
    genos.push({
      epoch,
      iteration,
      genotype: genotypeToJSON(g),
      repr: formatGenotypeRepr(g),
      alphas: { normal: softmaxRows(an), reduce: softmaxRows(ar) },
      ...(spec.withOps ? { ops: { normal: spec.space.normal, reduce: spec.space.reduce } } : {}),
    });
  });
  const last = genos[genos.length - 1] as { genotype: unknown; repr: string; epoch: number };
  writeFileSync(
    join(dir, 'config.json'),
    JSON.stringify({ method: spec.method, space: spec.space.name, dataset: 'cifar10', epochs: 10, seed: 1, layers: 8, channels: 16, order: 'first', unknownKey: { a: 1 } }),
  );
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  writeFileSync(join(dir, 'genotypes.jsonl'), genos.map((l) => JSON.stringify(l)).join('\n') + '\n');
  writeFileSync(join(dir, 'result.json'), JSON.stringify({ genotype: last.genotype, repr: last.repr, stopReason: 'completed', epochs: 10 }));
}

const ADA_STEPS: Array<[number, number]> = [
  ...[0, 1, 2, 3, 4, 5, 6].map((e): [number, number] => [e, 0]),
  ...[4, 5, 6, 7, 8, 9].map((e): [number, number] => [e, 1]),
];
const adaDir = join(tmp, 'ada-s1');
const tinyDir = join(tmp, 'tiny3');
const s1NoOps = join(tmp, 's1-no-ops');

before(() => {
  writeRun(adaDir, { space: getSpace('s1'), method: 'darts-ada', steps: ADA_STEPS, ada: { epoch: 6, toEpoch: 3 }, withOps: true, finalAcc: 0.8 });
  writeRun(tinyDir, { space: TINY3, method: 'darts', steps: [0, 1, 2, 3, 4, 5].map((e): [number, number] => [e, 0]), withOps: true, finalAcc: 0.7 });
  writeRun(s1NoOps, { space: getSpace('s1'), method: 'darts', steps: [0, 1, 2, 3, 4, 5, 6].map((e): [number, number] => [e, 0]), withOps: false, finalAcc: 0.75 });
});

function sectionOf(html: string, id: string): string {
  const start = html.indexOf(`<section id="${id}">`);
  assert.ok(start >= 0, `section ${id} missing`);
  return html.slice(start, html.indexOf('</section>', start));
}

test('readRun: ADA iterations, rollbacks and the effective history', () => {
  const run = readRun(adaDir);
  assert.equal(run.epochs.length, 13);
  assert.equal(run.hessians.length, 13);
  assert.deepEqual(
    run.adaEvents.map((a) => [a.epoch, a.toEpoch, a.iteration]),
    [[6, 3, 1]],
  );
  assert.equal(run.earlyStops[0]!.stopEpoch, 3);
  // genotypes.jsonl iterations come from the lines
  assert.deepEqual(run.genotypes.map((g) => g.iteration), ADA_STEPS.map(([, it]) => it));
  // alphas are probabilities already: no softmax applied; S1 op names carried
  assert.equal(run.genotypes[0]!.alphas!.normal.softmaxApplied, false);
  assert.deepEqual(run.genotypes[0]!.alphas!.normal.ops![5], ['max_pool_3x3', 'skip_connect']);
  // effective history: iteration 0 up to epoch 3, then iteration 1 epochs 4..9
  const eff = effectiveHistory(run.hessians, rollbacks(run));
  assert.deepEqual(eff.map((h) => [h.epoch, h.iteration]), [[0, 0], [1, 0], [2, 0], [3, 0], [4, 1], [5, 1], [6, 1], [7, 1], [8, 1], [9, 1]]);
  const s = summarize(run);
  const want = eff.reduce((a, h) => a + lam(h.epoch, h.iteration), 0) / eff.length;
  assert.ok(Math.abs(s.meanEigenvalue! - want) < 1e-12, `${s.meanEigenvalue} vs ${want}`);
  assert.equal(s.finalEigenvalue, lam(9, 1));
  assert.equal(s.epochsRun, 10);
  assert.equal(s.rollbackCount, 1);
  assert.equal(s.finalValidAcc, 0.8);
});

test('readRun: op names come from the registered space when a line has none; iteration inferred when missing', () => {
  const run = readRun(s1NoOps);
  assert.deepEqual(run.genotypes[0]!.alphas!.normal.ops, getSpace('s1').normal);
  // write a copy without iteration fields: rollbacks and backwards epochs give the iterations
  const dir = join(tmp, 'no-iter');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), readFileSync(join(adaDir, 'config.json')));
  const strip = (text: string) =>
    text
      .trim()
      .split('\n')
      .map((l) => {
        const o = JSON.parse(l) as Record<string, unknown>;
        delete o.iteration;
        return JSON.stringify(o);
      })
      .join('\n') + '\n';
  writeFileSync(join(dir, 'metrics.jsonl'), strip(readFileSync(join(adaDir, 'metrics.jsonl'), 'utf8')));
  writeFileSync(join(dir, 'genotypes.jsonl'), strip(readFileSync(join(adaDir, 'genotypes.jsonl'), 'utf8')));
  const r = readRun(dir);
  assert.deepEqual(r.epochs.map((e) => e.iteration), ADA_STEPS.map(([, it]) => it));
  assert.deepEqual(r.genotypes.map((g) => g.iteration), ADA_STEPS.map(([, it]) => it));
  assert.deepEqual(r.adaEvents.map((a) => a.iteration), [1]);
});

test('trajectoryWithAverage: centred 5-point average over the inherited history', () => {
  const run = readRun(adaDir);
  const pts = run.hessians.map((h) => ({ epoch: h.epoch, iteration: h.iteration, maxEigenvalue: h.maxEigenvalue }));
  const traj = trajectoryWithAverage(pts, rollbacks(run));
  // iteration 1 starts from the inherited point at epoch 3, then its own epochs 4..9
  const it1 = traj.filter((p) => p.iteration === 1);
  assert.deepEqual(it1.map((p) => p.epoch), [3, 4, 5, 6, 7, 8, 9]);
  // history of it 1: λ(0..3, it 0), λ(4..9, it 1); average at epoch 4 = mean of epochs 2..6 of that history
  const hist = [0, 1, 2, 3].map((e) => lam(e, 0)).concat([4, 5, 6, 7, 8, 9].map((e) => lam(e, 1)));
  const at4 = it1.find((p) => p.epoch === 4)!;
  assert.ok(Math.abs(at4.average - (hist[2]! + hist[3]! + hist[4]! + hist[5]! + hist[6]!) / 5) < 1e-12);
  // at the end the window is clipped: epoch 9 averages epochs 7..9
  assert.ok(Math.abs(it1[it1.length - 1]!.average - (hist[7]! + hist[8]! + hist[9]!) / 3) < 1e-12);
  // iteration 0 points after the rollback target are discarded
  assert.deepEqual(traj.filter((p) => p.discarded).map((p) => [p.epoch, p.iteration]), [[4, 0], [5, 0], [6, 0]]);
});

test('buildReport: self-contained report.html with every section, and plots/*.svg', async () => {
  const r = await buildReport(adaDir);
  assert.equal(r.htmlPath, join(adaDir, 'report.html'));
  const html = readFileSync(r.htmlPath, 'utf8');
  // self-contained: no scripts, no external links (xmlns attributes aside), no DOCTYPE links from Graphviz
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /<link\b/i);
  const noXmlns = html.replace(/\sxmlns(:\w+)?="[^"]*"/g, '');
  assert.doesNotMatch(noXmlns, /https?:\/\//);
  // every figure section has an SVG
  for (const id of ['summary', 'curves', 'eigenvalues', 'alphas', 'genotypes']) assert.match(sectionOf(html, id), /<svg/, `no svg in ${id}`);
  assert.equal(sectionOf(html, 'summary').match(/<svg/g)!.length, 2, 'two cell diagrams');
  assert.equal(sectionOf(html, 'curves').match(/<svg/g)!.length, 2, 'loss and accuracy');
  assert.equal(sectionOf(html, 'alphas').match(/<svg/g)!.length, 2, 'normal and reduce α');
  assert.ok(sectionOf(html, 'eigenvalues').match(/<svg/g)!.length >= 3, 'trajectory, spectrum, discretisation');
  // the final genotype repr, verbatim
  const result = JSON.parse(readFileSync(join(adaDir, 'result.json'), 'utf8')) as { repr: string };
  assert.ok(html.includes(result.repr), 'repr missing');
  // ids are unique across the inlined figures
  const ids = [...html.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!);
  assert.equal(new Set(ids).size, ids.length, 'duplicate ids');
  // per-epoch table: 13 rows, the 3 epochs discarded by the rollback marked
  const epochs = sectionOf(html, 'epochs');
  assert.equal(epochs.match(/<tr class="discarded">/g)?.length, 3);
  assert.equal(epochs.match(/<tr/g)!.length, 1 + 13);
  // decisions listed in words
  assert.match(html, /detected at epoch 6; returns the architecture of epoch 3/);

  const plots = readdirSync(join(adaDir, 'plots')).sort();
  for (const f of ['loss.svg', 'accuracy.svg', 'eigenvalues.svg', 'spectrum.svg', 'alphas-normal.svg', 'alphas-reduce.svg', 'genotype-epochs.svg', 'cells-normal.svg', 'cells-reduce.svg', 'discretization.svg']) {
    assert.ok(plots.includes(f), `plots/${f} missing`);
    assert.ok(r.files.includes(join(adaDir, 'plots', f)));
  }
  assert.equal(plots.filter((f) => f.startsWith('.')).length, 0, 'no temporary files left');
  const eig = readFileSync(join(adaDir, 'plots', 'eigenvalues.svg'), 'utf8');
  assert.match(eig, /^<\?xml/);
  assert.match(eig, />ES detect e6 \(code rule\)</);
  assert.match(eig, />ES stop: architecture of e3</);
  assert.match(eig, />ADA rollback e6→e3, L2 3\.0e-4→3\.0e-3</);
  assert.match(eig, />ADA it 1</);
  // S1: the op names of every edge are written in the cells (ops differ per edge)
  const alphaN = readFileSync(join(adaDir, 'plots', 'alphas-normal.svg'), 'utf8');
  for (const op of new Set(getSpace('s1').normal.flat())) assert.ok(alphaN.includes(`>${op}<`), `${op} not in the normal α heatmap`);
  const alphaR = readFileSync(join(adaDir, 'plots', 'alphas-reduce.svg'), 'utf8');
  for (const op of new Set(getSpace('s1').reduce.flat())) assert.ok(alphaR.includes(`>${op}<`), `${op} not in the reduce α heatmap`);
  assert.match(alphaN, />e13: node 3 ← node 2</);
  assert.match(alphaN, />e10: node 3 ← input 1</, 'edge labels are not truncated');
  assert.match(alphaN, />op slot \(op name in each cell\)</);
  // the α of the last record is shown: its first weight, to 2 decimals, is in the first cell
  const lastRec = readRun(adaDir).genotypes.at(-1)!;
  assert.match(alphaN, new RegExp(`<tspan>${lastRec.alphas!.normal.ops![0]![0]}</tspan><tspan x="0" dy="12">${lastRec.alphas!.normal.weights[0]![0]!.toFixed(2)}</tspan>`));
  // the spectrum shows the first and last measurement of the effective trajectory
  const spec = readFileSync(join(adaDir, 'plots', 'spectrum.svg'), 'utf8');
  assert.match(spec, />e0 · it 0</);
  assert.match(spec, />e9 · it 1</);
});

test('buildReport: 3-op space; op names on the axis; --out elsewhere', async () => {
  const out = join(tmp, 'elsewhere', 'tiny.html');
  const r = await buildReport(tinyDir, { out });
  assert.equal(r.htmlPath, out);
  assert.ok(existsSync(out));
  assert.ok(!existsSync(join(tinyDir, 'report.html')));
  const alpha = readFileSync(join(tinyDir, 'plots', 'alphas-normal.svg'), 'utf8');
  for (const op of ['skip_connect', 'sep_conv_3x3', 'max_pool_3x3']) assert.ok(alpha.includes(`>${op}<`), op);
  assert.doesNotMatch(alpha, /op slot/);
  // no rollbacks: no ADA marks, no discarded rows
  const eig = readFileSync(join(tinyDir, 'plots', 'eigenvalues.svg'), 'utf8');
  assert.doesNotMatch(eig, /ADA rollback|ES detect/);
  assert.doesNotMatch(readFileSync(out, 'utf8'), /class="discarded"/);
});

test('buildReport: a run that has only started (no genotypes, no result, null metrics) still gets a report', async () => {
  const dir = join(tmp, 'started');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), '{"method": "darts"}');
  writeFileSync(join(dir, 'metrics.jsonl'), '{"kind":"epoch","epoch":0,"train":{"loss":null,"acc":null},"valid":null}\n{"kind":"hessian","epoch":0,"maxEigenvalue":0.2}\n');
  const r = await buildReport(dir);
  assert.deepEqual(r.files, [join(dir, 'report.html'), join(dir, 'plots', 'eigenvalues.svg'), join(dir, 'plots', 'eigenvalues.png')]);
  // the PNG is a real raster of the figure: PNG signature, IHDR with a non-trivial size
  const png = readFileSync(join(dir, 'plots', 'eigenvalues.png'));
  assert.deepEqual([...png.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  assert.equal(png.subarray(12, 16).toString('ascii'), 'IHDR');
  assert.ok(png.readUInt32BE(16) > 200 && png.readUInt32BE(20) > 100, `PNG is ${png.readUInt32BE(16)}×${png.readUInt32BE(20)}`);
  const html = readFileSync(r.htmlPath, 'utf8');
  assert.match(html, /No genotype recorded yet/);
  assert.match(html, /No losses logged/);
  assert.match(html, /result\.json is missing/);
  assert.equal(r.summary.finalEigenvalue, 0.2);
});

test('readRun errors name the file and the line', () => {
  const bad = join(tmp, 'bad');
  mkdirSync(bad, { recursive: true });
  writeFileSync(join(bad, 'config.json'), readFileSync(join(tinyDir, 'config.json')));
  assert.throws(
    () => readRun(bad),
    (e: unknown) => e instanceof CheckpointError && /metrics\.jsonl is missing/.test(e.message),
  );
  const good = readFileSync(join(tinyDir, 'metrics.jsonl'), 'utf8').trim().split('\n');
  // malformed JSON on line 4
  writeFileSync(join(bad, 'metrics.jsonl'), [...good.slice(0, 3), '{"kind": "epoch", "epoch": 3,', ...good.slice(3)].join('\n') + '\n');
  assert.throws(
    () => readRun(bad),
    (e: unknown) => e instanceof CheckpointError && /metrics\.jsonl, line 4: not valid JSON/.test(e.message),
  );
  // a field of the wrong type on line 2
  writeFileSync(join(bad, 'metrics.jsonl'), [good[0], '{"kind":"hessian","epoch":0,"maxEigenvalue":"big"}', ...good.slice(1)].join('\n') + '\n');
  assert.throws(
    () => readRun(bad),
    (e: unknown) => e instanceof CheckpointError && /line 2: hessian line: maxEigenvalue/.test(e.message),
  );
  // no kind
  writeFileSync(join(bad, 'metrics.jsonl'), [good[0], '{"epoch":0}'].join('\n') + '\n');
  assert.throws(() => readRun(bad), /line 2: missing "kind"/);
  // an unknown kind is skipped with a warning; a partial last line (write in progress) too
  writeFileSync(join(bad, 'metrics.jsonl'), [good[0], '{"kind":"lr-schedule","epoch":0}', '{"kind":"epo'].join('\n'));
  const r = readRun(bad);
  assert.equal(r.epochs.length, 1);
  assert.ok(r.warnings.some((w) => /unknown kind "lr-schedule"/.test(w)));
  assert.ok(r.warnings.some((w) => /line 3: incomplete last line/.test(w)));
  // a bad genotype in genotypes.jsonl names the line and the gene
  writeFileSync(join(bad, 'metrics.jsonl'), good.join('\n') + '\n');
  const genos = readFileSync(join(tinyDir, 'genotypes.jsonl'), 'utf8').trim().split('\n');
  const g = JSON.parse(genos[1]!) as { genotype: { normal: Array<[string, number]> } };
  g.genotype.normal[0] = ['conv_9x9', 0];
  writeFileSync(join(bad, 'genotypes.jsonl'), [genos[0], JSON.stringify(g)].join('\n') + '\n');
  assert.throws(() => readRun(bad), (e: unknown) => e instanceof CheckpointError && /genotypes\.jsonl, line 2: .*conv_9x9/.test(e.message));
  // not a run folder at all; a folder that does not exist
  const empty = join(tmp, 'empty');
  mkdirSync(empty, { recursive: true });
  assert.throws(() => readRun(empty), /is not a run folder/);
  assert.throws(() => readRun(join(tmp, 'nope')), /does not exist/);
});

test('buildComparison: table and λ_max–error correlations with p-values', async () => {
  const out = join(tmp, 'cmp');
  const dirs = [adaDir, tinyDir, s1NoOps];
  const r = await buildComparison(dirs, out);
  assert.equal(r.rows.length, 3);
  const mean = r.correlations.find((c) => c.x === 'meanEigenvalue')!;
  const xs = r.rows.map((row) => row.meanEigenvalue!);
  const ys = r.rows.map((row) => 100 * (1 - row.finalValidAcc!));
  assert.ok(Math.abs(mean.pearson.r - pearson(xs, ys).r) < 1e-12);
  assert.ok(Math.abs(mean.spearman.r - spearman(xs, ys).r) < 1e-12);
  assert.ok(Number.isFinite(mean.pearson.p));
  const json = JSON.parse(readFileSync(r.jsonPath, 'utf8')) as { runs: unknown[]; correlations: Array<{ pearson: { r: number } }> };
  assert.equal(json.runs.length, 3);
  assert.ok(Math.abs(json.correlations[0]!.pearson.r - mean.pearson.r) < 1e-12);
  const html = readFileSync(r.htmlPath, 'utf8');
  assert.match(html, /<svg/);
  assert.match(html, /Pearson r = /);
  assert.ok(existsSync(join(out, 'plots', 'correlation-mean-eigenvalue.svg')));
});

function rdarts(...args: string[]) {
  const res = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: res.status, stdout: res.stdout, stderr: res.stderr };
}

test('rdarts report RUN_DIR --json, and clear errors', () => {
  const r = rdarts('report', tinyDir, '--json');
  assert.equal(r.code, 0, r.stderr);
  const o = JSON.parse(r.stdout) as { html: string; files: string[] };
  assert.deepEqual(Object.keys(o), ['html', 'files']);
  assert.equal(o.html, join(tinyDir, 'report.html'));
  assert.ok(existsSync(o.html));
  assert.equal(o.files[0], o.html);
  assert.ok(o.files.includes(join(tinyDir, 'plots', 'eigenvalues.svg')));
  for (const f of o.files) assert.ok(existsSync(f), f);
  const missing = rdarts('report', join(tmp, 'nope'));
  assert.equal(missing.code, 4);
  assert.match(missing.stderr, /does not exist/);
  assert.match(missing.stderr, /help: /);
  const two = rdarts('report', tinyDir, s1NoOps, '--out', join(tmp, 'x.html'));
  assert.equal(two.code, 2);
  assert.match(two.stderr, /--out names one file/);
  const cmp = rdarts('report', tinyDir, s1NoOps, '--compare', join(tmp, 'cmp-cli'), '--json');
  assert.equal(cmp.code, 0, cmp.stderr);
  const co = JSON.parse(cmp.stdout) as { reports: Array<{ html: string }>; comparison: { html: string } };
  assert.deepEqual(co.reports.map((x) => x.html), [join(tinyDir, 'report.html'), join(s1NoOps, 'report.html')]);
  assert.ok(existsSync(co.comparison.html));
  // without --json: the report paths, one per line
  const plain = rdarts('report', tinyDir);
  assert.equal(plain.code, 0, plain.stderr);
  assert.equal(plain.stdout.split('\n')[0], join(tinyDir, 'report.html'));
});

test('readRun: an ignored DARTS-ADA trigger (final L2) and the search\'s bookkeeping lines start no iteration and raise no warning', () => {
  const dir = join(tmp, 'ada-ignore');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ method: 'darts-ada', space: 's3', dataset: 'synthetic', epochs: 4 }));
  const ep = (epoch: number, iteration: number) => ({ kind: 'epoch', epoch, iteration, lr: 0.02, train: { loss: 2, acc: 0.1 }, valid: { loss: 2, acc: 0.1 } });
  const lines = [
    ep(0, 0),
    ep(1, 0),
    { kind: 'early-stop-check', epoch: 1, iteration: 0, rule: 'paper', ratio: 0.5, fired: true, stopEpoch: 0 },
    { kind: 'darts-es-genotype', epoch: 1, iteration: 0, stopEpoch: 0, repr: null },
    { kind: 'ada', epoch: 0, action: 'rollback', toEpoch: 0, previousL2: 3e-4, newL2: 3e-3, iteration: 1 },
    ep(1, 1),
    { kind: 'ada', epoch: 1, action: 'ignore', reason: 'final', l2: 3e-3, iteration: 1 },
    ep(2, 1),
    ep(3, 1),
  ];
  writeFileSync(join(dir, 'metrics.jsonl'), lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
  const run = readRun(dir);
  assert.equal(run.adaEvents.length, 1);
  assert.equal(run.adaEvents[0]!.toEpoch, 0);
  assert.deepEqual(run.warnings.filter((w) => /unknown kind/.test(w)), []);
  assert.equal(run.epochs.filter((e) => e.iteration === 1).length, 3);
});
