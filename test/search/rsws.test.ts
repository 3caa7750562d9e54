import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pinTestThreads } from '../helpers/threads.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { syntheticDataset } from '../../src/data/index.js';
import { genotypesEqual, type Genotype } from '../../src/nas/genotype.js';
import { genotypeFromJSON } from '../../src/nas/genotype-json.js';
import { getSpace } from '../../src/nas/spaces.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { SearchTrainer } from '../../src/search/trainer.js';
import { RsWsPlugin, sampledGenotype, selectArchitecture } from '../../src/search/methods/rsws.js';
import { runSearch } from '../../src/experiments/search-run.js';
import type { SampledArchitecture } from '../../src/search/methods/rsws-sampler.js';

pinTestThreads();

const data = syntheticDataset({ n: 48, channels: 3, height: 8, width: 8, numClasses: 4, seed: 3 });

function config(o: DeepPartial<SearchConfig> = {}): SearchConfig {
  return resolveConfig(undefined, {
    method: 'rs-ws',
    space: 's3',
    dataset: 'synthetic',
    layers: 3,
    channels: 2,
    epochs: 2,
    batchSize: 8,
    stepsPerEpoch: 3,
    evalBatches: 2,
    seed: 5,
    hessian: { every: 0 },
    rsws: { samples: 6, scoreBatches: 1, topK: 3 },
    ...o,
  });
}

function alphaValues(t: SearchTrainer): number[] {
  return t.model.archParameters().flatMap((a) => a.toNumbers());
}

/** A genotype fits the space: two genes per node, predecessors < node+2 and distinct, ops from the edge's list. */
function assertValid(g: Genotype, space = getSpace('s3')): void {
  for (const cell of ['normal', 'reduce'] as const) {
    const genes = g[cell];
    assert.equal(genes.length, 2 * space.steps);
    for (let node = 0; node < space.steps; node++) {
      const [a, b] = [genes[2 * node]!, genes[2 * node + 1]!];
      assert.notEqual(a[1], b[1], `${cell} node ${node}: predecessors must differ`);
      for (const [op, j] of [a, b]) {
        assert.ok(j >= 0 && j < node + 2);
        assert.ok(space[cell][(node * (node + 3)) / 2 + j]!.includes(op), `${op} on edge`);
      }
    }
  }
  assert.deepEqual(g.normalConcat, [2, 3, 4, 5]);
  assert.deepEqual(g.reduceConcat, [2, 3, 4, 5]);
}

test('rs-ws training: one new one-hot architecture per step (distinct predecessors), α never changes, budget rsws.steps with a partial last epoch', async () => {
  const cfg = config({ rsws: { steps: 5, samples: 4, scoreBatches: 1, topK: 2 } });
  const sampled: SampledArchitecture[] = [];
  const plugin = new RsWsPlugin({ seed: cfg.seed, samples: 4, scoreBatches: 1, topK: 2, onSample: (a) => sampled.push(a) });
  const t = new SearchTrainer(cfg, { train: data }, { plugins: [plugin] });
  try {
    assert.equal(t.epochs, 2); // ceil(5 / 3)
    assert.deepEqual([t.stepsIn(0), t.stepsIn(1)], [3, 2]);
    const before = alphaValues(t);
    const r = await t.run();
    assert.deepEqual(alphaValues(t), before, 'α must not move during rs-ws');
    assert.equal(sampled.length, 5);
    assert.equal(plugin.draws, 5);
    const reprs = new Set(sampled.map((a) => JSON.stringify(sampledGenotype(a))));
    assert.ok(reprs.size >= 4, `architectures should differ between steps, got ${reprs.size} distinct of 5`);
    for (const a of sampled) {
      assertValid(sampledGenotype(a));
      for (const cell of [a.normal, a.reduce]) {
        // one-hot: one 1 on each of the 8 chosen edges, zero rows elsewhere
        const ones = cell.alphas.map((row) => row.reduce((s, v) => s + v, 0));
        assert.equal(ones.filter((s) => s === 1).length, 8);
        assert.equal(ones.filter((s) => s === 0).length, 6);
      }
    }
    assertValid(r.genotype);
    const rs = r.details?.rsws as { chosen: { fullError: number }; top: Array<{ fullError: number }> };
    assert.equal(rs.chosen.fullError, Math.min(...rs.top.map((x) => x.fullError)));
  } finally {
    t.dispose();
  }
});

test('rs-ws selection: deterministic under the seed, picks the best re-scored of the top-k, scores match direct evaluations', async () => {
  const cfg = config();
  const t = new SearchTrainer(cfg, { train: data }, { plugins: [new RsWsPlugin({ seed: cfg.seed, samples: 1, scoreBatches: 1, topK: 1 })] });
  try {
    await t.run(); // train the shared weights a little
    const ev = { evaluate: t.evaluate.bind(t), validationIndices: t.valIndices, batchSize: cfg.batchSize, note: () => {} };
    const o = { seed: 7, samples: 8, scoreBatches: 2, topK: 4 };
    const a = selectArchitecture(t.model.space, ev, o);
    const b = selectArchitecture(t.model.space, ev, o);
    assert.deepEqual(a.top, b.top);
    assert.ok(genotypesEqual(a.genotype, b.genotype));
    const c = selectArchitecture(t.model.space, ev, { ...o, seed: 8 });
    assert.notDeepEqual(c.top.map((x) => x.sample + ':' + JSON.stringify(x.genotype)), a.top.map((x) => x.sample + ':' + JSON.stringify(x.genotype)));
    assertValid(a.genotype);
    assert.equal(a.top.length, 4);
    for (let i = 1; i < a.top.length; i++) assert.ok(a.top[i - 1]!.scoreError <= a.top[i]!.scoreError, 'top-k is sorted by score');
    const best = Math.min(...a.top.map((x) => x.fullError));
    assert.equal(a.top[a.chosen]!.fullError, best);
    assert.ok(a.top.findIndex((x) => x.fullError === best) === a.chosen, 'ties keep the better score rank');
    assert.ok(genotypesEqual(a.genotype, a.top[a.chosen]!.genotype));
    // the full re-score is the eval-mode validation error of that architecture's one-hot weights
    const space = t.model.space;
    for (const x of a.top) {
      const values = { normal: space.normal.map((ops) => ops.map(() => 0)), reduce: space.reduce.map((ops) => ops.map(() => 0)) };
      for (const cell of ['normal', 'reduce'] as const) {
        x.genotype[cell].forEach(([op, j], i) => {
          const node = Math.floor(i / 2);
          const e = (node * (node + 3)) / 2 + j;
          values[cell][e]![space[cell][e]!.indexOf(op)] = 1;
        });
      }
      assert.equal(1 - t.evaluate(values).acc, x.fullError);
    }
    // evaluation touches no training state: the same selection after it
    assert.deepEqual(selectArchitecture(t.model.space, ev, o).top, a.top);
  } finally {
    t.dispose();
  }
});

test('rs-ws end to end: run folder, selection logged in metrics.jsonl, result.json genotype = best re-scored', async () => {
  const dir = makeTempDir('rsws');
  try {
    const cfg = config();
    const r = await runSearch(cfg, { out: dir, data });
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.equal(lines.filter((l) => l.kind === 'epoch').length, 2);
    assert.equal(lines.filter((l) => l.kind === 'hessian' || l.kind === 'discretization').length, 0);
    const sel = lines.find((l) => l.kind === 'rsws-selection') as { top: Array<{ fullError: number; scoreError: number; genotype: unknown }>; chosen: { rank: number; fullError: number }; samples: number; trainDraws: number };
    assert.ok(sel);
    assert.equal(sel.samples, 6);
    assert.equal(sel.trainDraws, 6);
    assert.equal(sel.top.length, 3);
    assert.equal(sel.chosen.fullError, Math.min(...sel.top.map((x) => x.fullError)));
    const chosen = genotypeFromJSON(sel.top[sel.chosen.rank]!.genotype);
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as { genotype: unknown; rsws: { chosen: { rank: number } } };
    assert.ok(genotypesEqual(genotypeFromJSON(result.genotype), chosen));
    assert.ok(genotypesEqual(r.genotype, chosen));
    assert.equal(result.rsws.chosen.rank, sel.chosen.rank);
    // same seed, same selection
    const dir2 = makeTempDir('rsws');
    try {
      const r2 = await runSearch(cfg, { out: dir2, data });
      assert.ok(genotypesEqual(r2.genotype, r.genotype));
    } finally {
      removeDir(dir2);
    }
  } finally {
    removeDir(dir);
  }
});
