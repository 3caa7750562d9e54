/**
 * The discretisation drop both ways: batch-norm re-estimation is the plain average of batch
 * statistics (checked against statistics computed directly), the reference number of
 * `rdarts discretize` equals the search's own record, and measuring changes nothing.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchNorm2d, Conv2d, Sequential, manualSeed, noGrad, randn, tidy } from '../../src/torch/index.js';
import { reestimateBatchNorm } from '../../src/search/bn-reestimate.js';
import { measureDiscretization } from '../../src/experiments/discretize-run.js';
import { runSearch } from '../../src/experiments/search-run.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../src/search/config.js';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { cli, tempDir } from './helpers.js';

test('reestimateBatchNorm: running mean/var become the average of the batches\' mean and unbiased variance; momentum and mode restored', () => {
  manualSeed(3);
  const conv = new Conv2d(2, 3, 3, { padding: 1, bias: false });
  const bn = new BatchNorm2d(3);
  const net = new Sequential(conv, bn);
  net.eval();
  try {
    const xs = [randn([4, 2, 5, 5]), randn([6, 2, 5, 5])];
    const stats = xs.map((x) =>
      noGrad(() =>
        tidy(() => {
          const h = conv.forward(x).permute([1, 0, 2, 3]).reshape([3, -1]);
          return { mean: h.mean(1).toNumbers(), var: h.var(1).toNumbers() };
        }),
      ),
    );
    const n = reestimateBatchNorm(net, xs.map((x) => ({ x, y: randn([x.shape[0]!]) })), (b) => void net.forward(b.x));
    assert.equal(n, 10);
    const [rm, rv] = [...bn.namedBuffers()].filter(([k]) => k !== 'num_batches_tracked').map(([, t]) => t.toNumbers());
    for (let c = 0; c < 3; c++) {
      assert.ok(Math.abs(rm![c]! - (stats[0]!.mean[c]! + stats[1]!.mean[c]!) / 2) < 1e-6, `mean ${c}`);
      assert.ok(Math.abs(rv![c]! - (stats[0]!.var[c]! + stats[1]!.var[c]!) / 2) < 1e-5, `var ${c}`);
    }
    assert.equal(bn.momentum, 0.1);
    assert.equal(bn.training, false);
    for (const x of xs) x.dispose();
  } finally {
    net.dispose();
  }
});

test('rdarts discretize: the reference drop equals the search\'s own record; the re-estimated one is reported beside it; nothing changes', { timeout: 120_000 }, async () => {
  const dir = tempDir('disc');
  try {
    const cfg: SearchConfig = resolveConfig(undefined, {
      dataset: 'synthetic', synthetic: { n: 64, channels: 3, size: 8, numClasses: 4 }, space: 's3', layers: 3, channels: 2, epochs: 2, batchSize: 8, stepsPerEpoch: 3, evalBatches: 2,
      hessian: { every: 0 }, analysis: { discretization: 'end' }, order: 'first',
    } as DeepPartial<SearchConfig>, 'test');
    const run = join(dir.path, 'search');
    await runSearch(cfg, { out: run });
    const rec = JSON.parse(readFileSync(join(run, 'result.json'), 'utf8')).discretization;
    const ckBytes = readFileSync(join(run, 'checkpoints', `epoch-${String(listCheckpoints(join(run, 'checkpoints')).at(-1)).padStart(4, '0')}`, 'tensors.safetensors'));
    const r = await measureDiscretization(run, { bnBatches: 3 });
    assert.equal(r.soft.acc, rec.softAcc);
    assert.equal(r.discrete.acc, rec.discreteAcc);
    assert.equal(r.drop, rec.drop);
    assert.equal(r.valImages, 16);
    assert.equal(r.bnImages, 24);
    assert.ok(r.discreteReestimated.acc >= 0 && r.discreteReestimated.acc <= 1);
    assert.equal(r.dropReestimated, r.soft.acc - r.discreteReestimated.acc);
    const again = await measureDiscretization(run, { bnBatches: 3 });
    assert.deepEqual(again, r);
    assert.ok(readFileSync(join(run, 'checkpoints', `epoch-${String(r.epoch).padStart(4, '0')}`, 'tensors.safetensors')).equals(ckBytes));
    const c = await cli(['discretize', run, '--bn-batches', '3', '--json']);
    assert.equal(c.code, 0, c.stderr);
    assert.equal(JSON.parse(c.stdout).dropReestimated, r.dropReestimated);
  } finally {
    dir.cleanup();
  }
});
