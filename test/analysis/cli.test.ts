import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot, robustDartsS1Dir } from '../helpers/fixtures.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';

const MAIN = join(repoRoot, 'dist', 'src', 'cli', 'main.js');
const tmp = makeTempDir('cli');
after(() => removeDir(tmp));
function rdarts(...args: string[]) {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

const SEED1 = [0.179, 0.148, 0.17, 0.146, 0.121, 0.249, 0.231, 0.36, 0.225, 0.386, 0.208, 0.43, 0.508, 0.229, 0.41, 0.502, 0.5, 0.25, 0.457, 0.517, 0.644, 0.459, 0.707, 1.319, 0.527, 0.521];

test('rdarts eig --json prints exactly the λ_max array; --no-shift removes the 1e-3', () => {
  const dir = robustDartsS1Dir();
  const f = join(dir, 'derivatives_1.json');
  const r = rdarts('eig', '--hessian-file', f, '--json');
  assert.equal(r.code, 0, r.stderr);
  const arr = JSON.parse(r.stdout) as Array<{ epoch: number; maxEigenvalue: number }>;
  assert.equal(arr.length, 26);
  assert.deepEqual(Object.keys(arr[0]!), ['epoch', 'maxEigenvalue']);
  assert.deepEqual(arr.map((x) => +x.maxEigenvalue.toFixed(3)), SEED1);
  assert.ok(Math.abs(arr[0]!.maxEigenvalue - 0.1788442875078543) < 1e-12);
  const ns = JSON.parse(rdarts('eig', '--hessian-file', f, '--json', '--no-shift').stdout) as typeof arr;
  ns.forEach((x, i) => assert.ok(Math.abs(arr[i]!.maxEigenvalue - x.maxEigenvalue - 1e-3) < 1e-14));
  const table = rdarts('eig', '--hessian-file', f);
  assert.equal(table.code, 0);
  assert.match(table.stdout, /26 measurement\(s\)/);
  assert.match(table.stdout, /\n\s+46\s+56\s+1\.319196\s+from H\n/);
});

test('rdarts es-replay: golden vectors from the derivatives files and from an eig --json trace', () => {
  const dir = robustDartsS1Dir();
  const want: Record<number, [number, number]> = { 1: [22, 10], 2: [22, 10], 3: [30, 18] };
  for (const seed of [1, 2, 3]) {
    const r = rdarts('es-replay', '--trace', join(dir, `derivatives_${seed}.json`), '--json');
    assert.equal(r.code, 0, r.stderr);
    const o = JSON.parse(r.stdout) as { detectEpoch: number | null; stopEpoch: number | null };
    assert.deepEqual([o.detectEpoch, o.stopEpoch], want[seed]);
  }
  const trace = join(tmp, 'trace.json');
  writeFileSync(trace, rdarts('eig', '--hessian-file', join(dir, 'derivatives_3.json'), '--json').stdout);
  const o = JSON.parse(rdarts('es-replay', '--trace', trace, '--json').stdout) as { detectEpoch: number; stopEpoch: number; rule: string };
  assert.deepEqual([o.rule, o.detectEpoch, o.stopEpoch], ['code', 30, 18]);
  const human = rdarts('es-replay', '--trace', trace);
  assert.match(human.stdout, /fires at epoch 30; returns the architecture of epoch 18/);
  // a factor no ratio reaches: never fires
  const never = JSON.parse(rdarts('es-replay', '--trace', trace, '--json', '--factor', '5').stdout) as { detectEpoch: null; stopEpoch: null };
  assert.deepEqual([never.detectEpoch, never.stopEpoch], [null, null]);
  // the paper rule on seed 1 (see early-stop tests for its definition): first fires at 14, returns 9
  const paper = JSON.parse(rdarts('es-replay', '--trace', join(dir, 'derivatives_1.json'), '--rule', 'paper', '--json').stdout) as { detectEpoch: number; stopEpoch: number };
  assert.deepEqual([paper.detectEpoch, paper.stopEpoch], [14, 9]);
});

test('CLI errors: ConfigError → exit 2 with a help line', () => {
  const missing = rdarts('eig', '--hessian-file', '/nonexistent/derivatives.json', '--json');
  assert.equal(missing.code, 2);
  assert.equal(missing.stdout, '');
  assert.match(missing.stderr, /^error: cannot read .*ENOENT\nhelp: /);
  const bad = join(tmp, 'bad.jsonl');
  writeFileSync(bad, '{"epoch":0,"H":[[1]]}\n{"epoch":2,"H":[[1,2]]}\n');
  const r = rdarts('eig', '--hessian-file', bad);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /line 2: "H" is not square/);
  const rule = rdarts('es-replay', '--trace', bad, '--rule', 'magic');
  assert.equal(rule.code, 2);
  assert.match(rule.stderr, /--rule must be 'code' or 'paper'/);
  const flag = rdarts('es-replay', '--trace', bad, '--delta', 'x');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--delta must be an integer, got "x"\nhelp: /);
});
