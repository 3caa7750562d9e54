import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { syntheticDataset } from '../../src/data/index.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { GRID_SELECTION_PENDING, memberName, planGrid, runGrid } from '../../src/experiments/grid.js';
import { runSearch } from '../../src/experiments/search-run.js';
import type { SearchEvent } from '../../src/search/trainer.js';

pinTestThreads();

const data = syntheticDataset({ n: 32, channels: 3, height: 8, width: 8, numClasses: 4, seed: 2 });

function config(o: DeepPartial<SearchConfig> = {}): SearchConfig {
  return resolveConfig(undefined, {
    method: 'rdarts-l2',
    space: 's2',
    dataset: 'synthetic',
    // the members run as worker processes (the study pool), which make their data from this
    synthetic: { n: 32, channels: 3, size: 8, numClasses: 4 },
    layers: 3,
    channels: 2,
    epochs: 2,
    batchSize: 8,
    stepsPerEpoch: 1,
    evalBatches: 1,
    order: 'first',
    seed: 3,
    hessian: { every: 1, method: 'full' },
    grid: { l2: [3e-4, 2.7e-3] },
    ...o,
  });
}

const readJson = (p: string) => JSON.parse(readFileSync(p, 'utf8')) as Record<string, any>;

test('grid member names and configurations (rdarts-l2, rdarts-dp with cutout on the same ramp)', () => {
  assert.equal(memberName('weightDecay', 3e-4), 'l2_3e-4');
  assert.equal(memberName('weightDecay', 0.0027), 'l2_2.7e-3');
  assert.equal(memberName('dropPath', 0), 'dp_0');
  assert.equal(memberName('dropPath', 0.2), 'dp_0.2');
  const dp = planGrid(config({ method: 'rdarts-dp', grid: { dropPath: [0, 0.2, 0.4, 0.6] } }), '/tmp/x');
  assert.deepEqual(dp.members.map((m) => m.name), ['dp_0', 'dp_0.2', 'dp_0.4', 'dp_0.6']);
  assert.deepEqual(dp.members.map((m) => m.config.dropPath), [0, 0.2, 0.4, 0.6]);
  assert.ok(dp.members.every((m) => m.config.method === 'darts' && m.config.cutout === 'auto' && m.config.weightDecay === 3e-4));
  assert.equal(dp.members[1]!.dir, '/tmp/x/runs/dp_0.2');
  const l2 = planGrid(resolveConfig(undefined, { method: 'rdarts-l2' }), '/tmp/y');
  assert.deepEqual(l2.members.map((m) => m.config.weightDecay), [3e-4, 9e-4, 2.7e-3, 8.1e-3]);
  assert.throws(() => planGrid(config({ grid: { l2: [1e-3, 1e-3] } }), '/tmp/z'), /twice/);
});

test('rdarts-l2 grid: one darts run per value, grid.json/result.json list the candidates, a rerun skips finished and resumes unfinished members', async () => {
  const dir = makeTempDir('grid');
  try {
    const cfg = config();
    await assert.rejects(runSearch(cfg, { out: join(dir, 'x'), data }), /grid/);
    const r = await runGrid(cfg, dir);
    assert.equal(r.complete, true);
    for (const [name, wd] of [['l2_3e-4', 3e-4], ['l2_2.7e-3', 2.7e-3]] as const) {
      const c = readJson(join(dir, 'runs', name, 'config.json'));
      assert.equal(c.weightDecay, wd);
      assert.equal(c.method, 'darts');
      assert.ok(existsSync(join(dir, 'runs', name, 'result.json')));
    }
    const grid = readJson(join(dir, 'grid.json'));
    assert.equal(grid.method, 'rdarts-l2');
    assert.deepEqual(grid.values, [3e-4, 2.7e-3]);
    assert.equal(grid.runs.length, 2);
    for (const m of grid.runs) {
      assert.equal(m.status, 'finished');
      assert.ok(m.genotype && m.repr);
      assert.equal(typeof m.finalValidAcc, 'number');
      assert.equal(m.eigenvalue.count, 2);
      const ev = readFileSync(join(dir, m.dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l)).filter((l) => l.kind === 'hessian').map((l) => l.maxEigenvalue as number);
      assert.equal(m.eigenvalue.final, ev[1]);
      assert.ok(Math.abs(m.eigenvalue.mean - (ev[0]! + ev[1]!) / 2) < 1e-12);
      assert.equal(typeof m.discretization.drop, 'number');
      assert.equal(readJson(join(dir, m.dir, 'result.json')).genotype.normal.length, 8);
    }
    const result = readJson(join(dir, 'result.json'));
    assert.equal(result.selection, GRID_SELECTION_PENDING);
    assert.equal(result.candidates.length, 2);
    assert.deepEqual(result.candidates.map((c: any) => c.dir), ['runs/l2_3e-4', 'runs/l2_2.7e-3']);

    // rerun: both finished → skipped, nothing rewritten
    const m1 = statSync(join(dir, 'runs', 'l2_3e-4', 'result.json')).mtimeMs;
    const metrics2 = readFileSync(join(dir, 'runs', 'l2_2.7e-3', 'metrics.jsonl'), 'utf8');
    const notes: string[] = [];
    const onEvent = (e: SearchEvent) => e.type === 'note' && notes.push(e.message);
    await runGrid(cfg, dir, { onEvent });
    assert.equal(notes.filter((n) => n.includes('finished, skipped')).length, 2);
    assert.equal(statSync(join(dir, 'runs', 'l2_3e-4', 'result.json')).mtimeMs, m1);

    // an unfinished member (no result.json, checkpoint of its last epoch) is resumed, not redone
    unlinkSync(join(dir, 'runs', 'l2_2.7e-3', 'result.json'));
    assert.equal(readJson(join(dir, 'grid.json')).runs[1].status, 'finished'); // stale until the next collect
    notes.length = 0;
    const r3 = await runGrid(cfg, dir, { onEvent });
    assert.ok(notes.some((n) => n.includes('l2_2.7e-3') && n.includes('resuming')));
    assert.ok(notes.some((n) => n.includes('l2_3e-4') && n.includes('finished, skipped')));
    assert.equal(r3.members[1]!.status, 'finished');
    assert.equal(readFileSync(join(dir, 'runs', 'l2_2.7e-3', 'metrics.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"kind":"epoch"')).length, 2);
    assert.ok(readFileSync(join(dir, 'runs', 'l2_2.7e-3', 'metrics.jsonl'), 'utf8').startsWith(metrics2.slice(0, 200)));
    assert.equal(statSync(join(dir, 'runs', 'l2_3e-4', 'result.json')).mtimeMs, m1);

    // the same folder with another grid is refused
    await assert.rejects(runGrid(config({ grid: { l2: [1e-3] } }), dir), /another configuration/);
  } finally {
    removeDir(dir);
  }
});
