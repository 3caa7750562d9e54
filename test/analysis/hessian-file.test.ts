import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError } from '../../src/errors.js';
import { parseHessianLines, readHessianFile, readHessianSource, readRunFolder, readTrace } from '../../src/experiments/hessian-file.js';
import { traceDetails, traceFromRecords } from '../../src/analysis/trace.js';
import { robustDartsS1Dir } from '../helpers/fixtures.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const tmp = makeTempDir('hessian');
after(() => removeDir(tmp));
function file(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}
function throwsOnLine(fn: () => unknown, line: number, what: RegExp): void {
  assert.throws(fn, (e: unknown) => e instanceof ConfigError && e.message.includes(`line ${line}:`) && what.test(e.message) && !!e.hint);
}

test('reference derivatives file: 26 records, 56×56, shift 1e-3', () => {
  const dir = robustDartsS1Dir();
  const recs = readHessianSource(join(dir, 'derivatives_1.json'));
  assert.equal(recs.length, 26);
  assert.deepEqual(recs.map((r) => r.epoch).slice(-3), [46, 48, 49]);
  const r0 = recs[0]!;
  assert.equal(r0.n, 56);
  assert.equal(r0.H!.length, 56 * 56);
  assert.equal(r0.H![0], 0.043314121663570404);
  assert.equal(r0.H![1], -0.04231410473585129);
  assert.equal(r0.shift, 1e-3);
  assert.equal(r0.format, 'derivatives');
  // --no-shift view: λ_max − 1e-3
  const [a, b] = [traceFromRecords(recs)[0]!, traceFromRecords(recs, { removeShift: true })[0]!];
  assert.ok(Math.abs(a.maxEigenvalue - b.maxEigenvalue - 1e-3) < 1e-15);
});

test('our JSON-lines format and a run folder', () => {
  const ours = file(
    'ours.jsonl',
    [
      JSON.stringify({ epoch: 0, hessian: { n: 2, data: [2, 1, 1, 2] } }),
      '',
      JSON.stringify({ epoch: 2, hessian: { n: 2, data: [5, 0, 0, -7] }, shift: 0.5 }),
    ].join('\n') + '\n',
  );
  const recs = readHessianFile(ours);
  assert.deepEqual(recs.map((r) => [r.epoch, r.n, r.shift, r.format, r.line]), [[0, 2, 0, 'hessian-jsonl', 1], [2, 2, 0.5, 'hessian-jsonl', 3]]);
  const tr = traceFromRecords(recs);
  assert.ok(Math.abs(tr[0]!.maxEigenvalue - 3) < 1e-14 && Math.abs(tr[1]!.maxEigenvalue - 5) < 1e-14);
  assert.ok(Math.abs(traceFromRecords(recs, { removeShift: true })[1]!.maxEigenvalue - 4.5) < 1e-14);

  const run = join(tmp, 'run1');
  mkdirSync(run);
  writeFileSync(
    join(run, 'metrics.jsonl'),
    [
      { kind: 'epoch', epoch: 0, trainLoss: 1.2 },
      { kind: 'hessian', epoch: 0, maxEigenvalue: 0.25 },
      { kind: 'epoch', epoch: 1, trainLoss: 1.1 },
      { kind: 'hessian', epoch: 2, maxEigenvalue: 0.99, hessian: { n: 1, data: [0.4] }, shift: 0.001 },
    ]
      .map((o) => JSON.stringify(o))
      .join('\n'),
  );
  const rr = readHessianSource(run);
  assert.deepEqual(rr.map((r) => [r.epoch, r.format, r.line]), [[0, 'metrics', 2], [2, 'metrics', 4]]);
  const det = traceDetails(rr);
  assert.deepEqual(det.map((d) => [d.epoch, d.maxEigenvalue, d.logged]), [[0, 0.25, true], [2, 0.4, false]], 'H wins over a logged value');
  assert.deepEqual(readTrace(run), [{ epoch: 0, maxEigenvalue: 0.25 }, { epoch: 2, maxEigenvalue: 0.4 }]);
  // the same metrics.jsonl passed as a file skips other kinds too
  assert.equal(readHessianFile(join(run, 'metrics.jsonl')).length, 2);
});

test('malformed lines name the line number', () => {
  throwsOnLine(() => parseHessianLines('{"epoch":0,"H":[[1]]}\n\n{"epoch":2,"H":[[1,', 'f'), 3, /not valid JSON/);
  throwsOnLine(() => parseHessianLines('{"epoch":0,"H":[[1,2],[3]]}', 'f'), 1, /not square/);
  throwsOnLine(() => parseHessianLines('{"epoch":0,"H":[[1]]}\n{"epoch":1,"hessian":{"n":2,"data":[1,2,3]}}', 'f'), 2, /n·n = 4/);
  throwsOnLine(() => parseHessianLines('{"H":[[1]]}', 'f'), 1, /"epoch"/);
  throwsOnLine(() => parseHessianLines('{"epoch":1.5,"H":[[1]]}', 'f'), 1, /"epoch"/);
  throwsOnLine(() => parseHessianLines('{"epoch":0,"H":[["x"]]}', 'f'), 1, /finite/);
  throwsOnLine(() => parseHessianLines('[1,2]', 'f'), 1, /JSON object/);
  throwsOnLine(() => parseHessianLines('{"epoch":0,"g":[1]}', 'f'), 1, /no "H", "hessian" or "maxEigenvalue"/);
  assert.throws(() => readHessianFile(file('empty.jsonl', '\n\n')), ConfigError);
  assert.throws(() => readHessianSource(join(tmp, 'does-not-exist.json')), (e: unknown) => e instanceof ConfigError && /ENOENT/.test(e.message));
  const run = join(tmp, 'run-nohessian');
  mkdirSync(run);
  writeFileSync(join(run, 'metrics.jsonl'), JSON.stringify({ kind: 'epoch', epoch: 0 }) + '\n');
  assert.throws(() => readRunFolder(run), (e: unknown) => e instanceof ConfigError && /no Hessian measurements/.test(e.message));
  // out-of-order epochs are refused when building a trace
  assert.throws(() => traceFromRecords(parseHessianLines('{"epoch":4,"maxEigenvalue":1}\n{"epoch":2,"maxEigenvalue":1}', 'f')), (e: unknown) => e instanceof ConfigError && /line 2/.test(e.message));
});

test('traces: JSON arrays as printed by `eig --json`', () => {
  const p = file('trace.json', JSON.stringify([{ epoch: 0, maxEigenvalue: 0.1 }, { epoch: 2, maxEigenvalue: 0.2 }]));
  assert.deepEqual(readTrace(p), [{ epoch: 0, maxEigenvalue: 0.1 }, { epoch: 2, maxEigenvalue: 0.2 }]);
  assert.throws(() => readTrace(file('bad-trace.json', '[{"epoch": 0}]')), (e: unknown) => e instanceof ConfigError && /element 0/.test(e.message));
  assert.throws(() => readTrace(file('empty-trace.json', '[]')), ConfigError);
});
