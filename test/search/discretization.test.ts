import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { F, noGrad, tensor, tidy } from '../../src/torch/index.js';
import { pinTestThreads } from '../helpers/threads.js';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { makeBatch, syntheticDataset } from '../../src/data/index.js';
import { type Genotype } from '../../src/nas/genotype.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { SearchTrainer } from '../../src/search/trainer.js';
import { discretizationDrop } from '../../src/search/methods/discretization.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { Rng } from '../../src/util/rng.js';

pinTestThreads();

const data = syntheticDataset({ n: 48, channels: 3, height: 8, width: 8, numClasses: 4, seed: 4 });

function config(o: DeepPartial<SearchConfig> = {}): SearchConfig {
  return resolveConfig(undefined, {
    method: 'darts',
    space: 's3',
    dataset: 'synthetic',
    layers: 3,
    channels: 2,
    epochs: 2,
    batchSize: 8,
    stepsPerEpoch: 2,
    evalBatches: 2,
    order: 'first',
    seed: 6,
    hessian: { every: 0 },
    ...o,
  });
}

const target: Genotype = {
  normal: [['sep_conv_3x3', 0], ['skip_connect', 1], ['skip_connect', 0], ['sep_conv_3x3', 2], ['sep_conv_3x3', 1], ['skip_connect', 3], ['skip_connect', 2], ['sep_conv_3x3', 4]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['skip_connect', 0], ['sep_conv_3x3', 1], ['sep_conv_3x3', 0], ['skip_connect', 2], ['skip_connect', 1], ['sep_conv_3x3', 3], ['skip_connect', 0], ['sep_conv_3x3', 4]],
  reduceConcat: [2, 3, 4, 5],
};

/** Same genes per node (the order within a node is a tie-break when both edges are equally strong). */
function sameCells(a: Genotype, b: Genotype): boolean {
  const key = (g: Genotype) =>
    (['normal', 'reduce'] as const).map((c) => [0, 1, 2, 3].map((n) => [g[c][2 * n]!, g[c][2 * n + 1]!].map((x) => x.join('@')).sort().join(',')).join(';')).join('|');
  return key(a) === key(b);
}

test('discretisation drop ≈ 0 when α is already one-hot-like on the genotype (large logits; unchosen edges on none)', async () => {
  const t = new SearchTrainer(config(), { train: data });
  try {
    await t.run(); // some trained weights and BN statistics
    const ops = ['none', 'skip_connect', 'sep_conv_3x3'];
    const logits = (g: Genotype['normal']) => {
      const rows = Array.from({ length: 14 }, () => [30, 0, 0]);
      g.forEach(([op, j], i) => {
        const node = Math.floor(i / 2);
        const row = rows[(node * (node + 3)) / 2 + j]!;
        row.fill(0);
        row[ops.indexOf(op)] = 30;
      });
      return rows;
    };
    t.model.setAlphas({ normal: logits(target.normal), reduce: logits(target.reduce) });
    assert.ok(sameCells(t.model.genotype(), target), JSON.stringify(t.model.genotype()));
    const d = discretizationDrop(t);
    assert.ok(sameCells(d.genotype, target));
    assert.equal(d.drop, 0);
    assert.equal(d.softAcc, d.discreteAcc);
    assert.ok(Math.abs(d.softLoss - d.discreteLoss) < 1e-4, `losses ${d.softLoss} vs ${d.discreteLoss}`);
  } finally {
    t.dispose();
  }
});

test('discretisation drop on uniform α equals a direct soft vs one-hot evaluation (trainer and explicit-batch forms agree)', async () => {
  const t = new SearchTrainer(config(), { train: data });
  try {
    await t.run();
    t.model.setAlphas({ normal: Array.from({ length: 14 }, () => [0, 0, 0]), reduce: Array.from({ length: 14 }, () => [0, 0, 0]) });
    const g = t.model.genotype();
    const d = discretizationDrop(t);
    // direct: the first evalBatches·batchSize validation images, eval mode, no grad
    const idx = t.valIndices.subarray(0, 16);
    const b = makeBatch(data, idx, { augment: false }, new Rng(0));
    const x = tensor(b.x, b.shape);
    const y = tensor(b.y, [b.y.length]).to('int64');
    const m = t.model;
    m.eval();
    const direct = noGrad(() =>
      tidy(() => {
        const soft = m.forward(x);
        const disc = m.forward(x, { weights: m.discreteWeights(g) });
        return {
          softAcc: soft.argmax(1).eq(y).sum().item() / 16,
          discreteAcc: disc.argmax(1).eq(y).sum().item() / 16,
          softLoss: F.crossEntropy(soft, y).item(),
          discreteLoss: F.crossEntropy(disc, y).item(),
        };
      }),
    );
    m.train();
    assert.equal(d.n, 16);
    assert.equal(d.softAcc, direct.softAcc);
    assert.equal(d.discreteAcc, direct.discreteAcc);
    assert.equal(d.drop, direct.softAcc - direct.discreteAcc);
    assert.ok(Math.abs(d.softLoss - direct.softLoss) < 1e-5);
    assert.ok(Math.abs(d.discreteLoss - direct.discreteLoss) < 1e-5);
    // uniform mixing vs one-hot: the two forwards really differ
    assert.ok(Math.abs(direct.softLoss - direct.discreteLoss) > 1e-4);
    const e = discretizationDrop({ model: m, batches: [{ x, y }] }, g);
    assert.equal(e.softAcc, direct.softAcc);
    assert.equal(e.discreteAcc, direct.discreteAcc);
    assert.ok(Math.abs(e.softLoss - direct.softLoss) < 1e-5);
    x.dispose();
    y.dispose();
  } finally {
    t.dispose();
  }
});

test('discretisation monitor: a metrics line per epoch (every) with drop = soft − discrete, soft = the epoch\'s validation accuracy; result.json has the last', async () => {
  const dir = makeTempDir('disc');
  try {
    await runSearch(config({ analysis: { discretization: 'every' } }), { out: dir, data });
    const lines = readFileSync(join(dir, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    const disc = lines.filter((l) => l.kind === 'discretization');
    const epochs = lines.filter((l) => l.kind === 'epoch');
    assert.deepEqual(disc.map((l) => l.epoch), [0, 1]);
    for (const l of disc) {
      assert.equal(l.drop, l.softAcc - l.discreteAcc);
      assert.equal(l.softAcc, epochs.find((e) => e.epoch === l.epoch)!.valid.acc);
      assert.ok(l.discreteAcc >= 0 && l.discreteAcc <= 1);
    }
    const result = JSON.parse(readFileSync(join(dir, 'result.json'), 'utf8')) as Record<string, any>;
    assert.equal(result.discretization.epoch, 1);
    assert.equal(result.discretization.drop, disc[1]!.drop);
    // default 'end': only the last epoch
    const dir2 = makeTempDir('disc');
    try {
      await runSearch(config({ epochs: 2, stepsPerEpoch: 1 }), { out: dir2, data });
      const l2 = readFileSync(join(dir2, 'metrics.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
      assert.deepEqual(l2.filter((l) => l.kind === 'discretization').map((l) => l.epoch), [1]);
    } finally {
      removeDir(dir2);
    }
  } finally {
    removeDir(dir);
  }
});
