/**
 * R-DARTS grids through the study's worker pool (experiments/grid.ts on study/local.ts):
 *   - `rdarts search --method rdarts-l2 --workers 2` starts both members before either ends
 *     (two worker processes, each with its log), writes grid.json / result.json and prints the
 *     `rdarts select` command for the members;
 *   - every member ends equal to the same search run by hand: one with the command its log
 *     names (`rdarts search --config <grid>/configs/<member>.json`), the other in this process as
 *     the grid ran its members before (runSearch on the member's configuration): the last
 *     checkpoint bitwise, the genotype, and every metrics line but its timings;
 *   - the printed select command runs (shrunk by extra flags) and picks one of the members;
 *   - the grid folder turned back into one written before the pool (no configs/, logs/,
 *     jobs.json) with an unfinished member is continued by `rdarts search --resume`, and takes
 *     the selection made by hand as its own; `--select` runs the selection in the grid's pool;
 *   - a member that fails on every attempt does not stop the other; the grid ends with an error
 *     naming it, its attempts and log, and the member's exit code.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveConfig, validateConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { GRID_SELECTION_PENDING, GridMemberError, planGrid, runGrid } from '../../src/experiments/grid.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { checkpointValues, readJsonl, sameBits } from '../search/helpers.js';
import { childEnv, pinTestThreads } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

pinTestThreads();

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' });

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((r) => child.on('close', (code) => r({ code, stdout, stderr })));
}

// a tiny S3 grid (3 cells × 2 channels, 8×8 synthetic images, first order) with λ_max every epoch
const GRID = { method: 'rdarts-l2', grid: { l2: [3e-4, 2.7e-3] }, space: 's3', dataset: 'synthetic', synthetic: { n: 32, channels: 3, size: 8, numClasses: 4 }, layers: 3, channels: 2, epochs: 2, batchSize: 8, stepsPerEpoch: 2, evalBatches: 1, order: 'first', seed: 4, hessian: { every: 1, lanczosIterations: 4, topK: 1 } };
const MEMBERS = ['l2_3e-4', 'l2_2.7e-3'];

/** metrics lines without their wall-clock fields */
function metricsWithoutTimes(dir: string): unknown[] {
  const strip = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(strip);
    if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).filter(([k]) => k !== 'seconds').map(([k, x]) => [k, strip(x)]));
    return v;
  };
  return readJsonl(join(dir, 'metrics.jsonl')).map(strip);
}

function assertSameRun(a: string, b: string, what: string): void {
  const ca = checkpointValues(join(a, 'checkpoints'));
  const cb = checkpointValues(join(b, 'checkpoints'));
  assert.equal(ca.epoch, cb.epoch, what);
  assert.ok(ca.values.size > 10, what);
  for (const [k, v] of ca.values) assert.ok(sameBits(v.data, cb.values.get(k)!.data), `${what}: tensor ${k} differs`);
  const ra = JSON.parse(readFileSync(join(a, 'result.json'), 'utf8'));
  const rb = JSON.parse(readFileSync(join(b, 'result.json'), 'utf8'));
  assert.deepEqual(ra.genotype, rb.genotype, what);
  assert.deepEqual(ra.finalValid, rb.finalValid, what);
  assert.deepEqual(metricsWithoutTimes(a), metricsWithoutTimes(b), what);
}

test('rdarts-l2 with --workers 2 runs its members side by side; each equals the member run by hand; the select command it prints works; an old grid folder resumes; --select', { timeout: 300_000 }, async () => {
  const tmp = tempDir('grid-pool');
  try {
    const grid = join(tmp.path, 'grid');
    const file = join(tmp.path, 'grid.json');
    writeFileSync(file, JSON.stringify(GRID));
    const r = await cli(['search', '--config', file, '--workers', '2', '--out', grid]);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    // both members started before the first one finished: they ran side by side
    const events = r.stderr.split('\n').filter((l) => l.includes('grid rdarts-l2:'));
    const firstEnd = events.findIndex((l) => l.endsWith('— finished'));
    assert.ok(firstEnd > 0, r.stderr);
    for (const m of MEMBERS) assert.ok(events.slice(0, firstEnd).some((l) => l.includes(`${m} (weightDecay`) && l.includes('starting')), `${m} did not start before the first member ended:\n${events.join('\n')}`);
    // the printed selection: pending, with the exact select command for this grid's members
    const selectCommand = `rdarts select ${grid} --out ${grid}-select --dataset synthetic`;
    assert.match(r.stdout, new RegExp(`selection: ${GRID_SELECTION_PENDING}`));
    assert.ok(r.stdout.includes(`\n  ${selectCommand}\n`), r.stdout);
    const result = JSON.parse(readFileSync(join(grid, 'result.json'), 'utf8'));
    assert.equal(result.selection, GRID_SELECTION_PENDING);
    assert.equal(result.selectCommand, selectCommand);
    assert.deepEqual(result.candidates.map((c: { dir: string }) => c.dir), MEMBERS.map((m) => `runs/${m}`));
    const gridJson = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8'));
    assert.equal(gridJson.selectCommand, selectCommand);
    assert.ok(gridJson.runs.every((m: { status: string }) => m.status === 'finished'));

    // member 1 by hand, with the command its log names (another --out)
    const log = readFileSync(join(grid, 'logs', `${MEMBERS[0]}.log`), 'utf8');
    const cmd = /== attempt 1 \S+: rdarts (search --config (\S+) --out (\S+))\n/.exec(log);
    assert.ok(cmd, log);
    assert.equal(cmd[2], join(grid, 'configs', `${MEMBERS[0]}.json`));
    assert.equal(cmd[3], join(grid, 'runs', MEMBERS[0]!));
    const byHand = join(tmp.path, 'by-hand');
    const h = await cli(['search', '--config', cmd[2]!, '--out', byHand, '--quiet']);
    assert.equal(h.code, 0, h.stdout + h.stderr);
    assertSameRun(join(grid, 'runs', MEMBERS[0]!), byHand, MEMBERS[0]!);

    // member 2 in this process, as runGrid ran its members before the pool
    const saved = JSON.parse(readFileSync(join(grid, 'config.json'), 'utf8'));
    delete saved.library;
    const plan = planGrid(validateConfig(saved, 'grid config.json'), grid);
    const m2 = plan.members[1]!;
    assert.equal(m2.name, MEMBERS[1]);
    const inProcess = join(tmp.path, 'in-process');
    await runSearch(m2.config, { out: inProcess });
    assertSameRun(m2.dir, inProcess, MEMBERS[1]!);

    // the select command runs (shrunk to a tiny network and one epoch each) and picks a member
    const shrink = ['--layers', '3', '--channels', '2', '--batch-size', '8', '--steps-per-epoch', '2', '--eval-batches', '1', '--no-auxiliary', '--short-epochs', '1', '--epochs', '1', '--subset', '64', '--test-subset', '16', '--quiet', '--json'];
    const sel = await cli([...selectCommand.split(' ').slice(1), ...shrink]);
    assert.equal(sel.code, 0, sel.stdout + sel.stderr);
    const picked = JSON.parse(sel.stdout) as { candidates: Array<{ name: string }>; selected: string };
    assert.deepEqual(picked.candidates.map((c) => c.name), MEMBERS.map((m) => `grid.${m}`));
    assert.ok(MEMBERS.map((m) => `grid.${m}`).includes(picked.selected), picked.selected);

    // the grid folder as written before the pool (no configs/, logs/, jobs.json, result.json),
    // member 2 unfinished (its last checkpoint, no result.json): rdarts search --resume continues it
    const member2 = join(grid, 'runs', MEMBERS[1]!);
    const before = readFileSync(join(member2, 'result.json'), 'utf8');
    for (const p of ['configs', 'logs', 'jobs.json', 'result.json']) rmSync(join(grid, p), { recursive: true });
    unlinkSync(join(member2, 'result.json'));
    const again = await cli(['search', '--resume', grid]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stderr, /l2_3e-4 \(weightDecay 0\.0003\) — finished, skipped/);
    assert.match(again.stderr, /l2_2\.7e-3 \(weightDecay 0\.0027\) — resuming/);
    assert.ok(existsSync(join(grid, 'configs', `${MEMBERS[1]}.json`)));
    assert.match(readFileSync(join(grid, 'logs', `${MEMBERS[1]}.log`), 'utf8'), /rdarts search --resume \S+l2_2\.7e-3\n/);
    assert.ok(!existsSync(join(grid, 'logs', `${MEMBERS[0]}.log`)), 'the finished member was run again');
    assert.deepEqual(JSON.parse(readFileSync(join(member2, 'result.json'), 'utf8')).genotype, JSON.parse(before).genotype);
    assert.equal(readJsonl(join(member2, 'metrics.jsonl')).filter((l) => l.kind === 'epoch').length, GRID.epochs);
    const resumed = JSON.parse(readFileSync(join(grid, 'result.json'), 'utf8'));
    assert.equal(resumed.candidates.length, 2);
    // the selection made by hand above, in <grid>-select, is the grid's selection now
    assert.equal(resumed.selection, `selected ${picked.selected}`);
    assert.equal(resumed.selected.name, picked.selected);
    assert.match(again.stdout, new RegExp(`selection: selected ${picked.selected.replace(/\./g, '\\.')} — test error`));

    // --select: the same selection as a job of the grid's pool, after the (finished) members
    rmSync(`${grid}-select`, { recursive: true });
    const tiny = join(tmp.path, 'select.json');
    writeFileSync(tiny, JSON.stringify({ layers: 3, channels: 2, batchSize: 8, stepsPerEpoch: 2, evalBatches: 1, auxiliary: false, epochs: 1, subset: 64, testSubset: 16 }));
    const withSelect = await cli(['search', '--resume', grid, '--select', '--select-config', tiny]);
    assert.equal(withSelect.code, 0, withSelect.stdout + withSelect.stderr);
    assert.match(withSelect.stderr, /grid rdarts-l2: select \(rdarts select, \S+-select\) — starting/);
    assert.ok(readFileSync(join(grid, 'logs', 'select.log'), 'utf8').includes(`: ${selectCommand} --config ${tiny} --quiet\n`));
    const sel2 = JSON.parse(readFileSync(join(`${grid}-select`, 'result.json'), 'utf8')) as { selected: string; selectedTestError: number };
    const final = JSON.parse(readFileSync(join(grid, 'result.json'), 'utf8'));
    assert.equal(final.selection, `selected ${sel2.selected}`);
    assert.deepEqual(final.selected, { name: sel2.selected, testError: sel2.selectedTestError, dir: `${grid}-select` });
    assert.ok(MEMBERS.map((m) => `grid.${m}`).includes(sel2.selected));
  } finally {
    tmp.cleanup();
  }
});

test('a member that fails on every attempt does not stop the others; the grid ends with an error naming it, with its exit code', { timeout: 200_000 }, async () => {
  const tmp = tempDir('grid-fail');
  try {
    const grid = join(tmp.path, 'grid');
    const cfg = resolveConfig(undefined, GRID as DeepPartial<SearchConfig>, 'test grid');
    const plan = planGrid(cfg, grid);
    // member 2's folder holds its run (right method and weight decay) with a configuration its resume refuses
    mkdirSync(plan.members[1]!.dir, { recursive: true });
    writeFileSync(join(plan.members[1]!.dir, 'config.json'), JSON.stringify({ ...plan.members[1]!.config, epochs: 0 }));
    await assert.rejects(runGrid(cfg, grid, { workers: 2, retries: 1, env: { RDARTS_THREADS: '1' } }), (e: unknown) => {
      assert.ok(e instanceof GridMemberError, String(e));
      assert.equal(e.exitCode, 2); // the member's: a configuration error
      assert.match(e.message, /1 of 2 members failed: l2_2\.7e-3 \(2 attempts, exit code 2; log logs\/l2_2\.7e-3\.log\)/);
      assert.match(e.message, /epochs/);
      return true;
    });
    const runs = JSON.parse(readFileSync(join(grid, 'grid.json'), 'utf8')).runs as Array<{ name: string; status: string }>;
    assert.deepEqual(runs.map((m) => [m.name, m.status]), [['l2_3e-4', 'finished'], ['l2_2.7e-3', 'unfinished']]);
    assert.ok(!existsSync(join(grid, 'result.json')));
  } finally {
    tmp.cleanup();
  }
});
