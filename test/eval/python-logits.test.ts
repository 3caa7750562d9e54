/**
 * model.safetensors loads into the DARTS evaluation model unchanged: test/eval/py/darts_eval.py
 * (NetworkCIFAR in DARTS' structure and key names, on Debian's python3-torch, the safetensors
 * format parsed by hand) builds the network for the genotype, loads the file strictly and gives
 * the same eval-mode logits as robust-darts to 1e-5 on the same input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { genotypeFromJSON, getPublishedGenotype, type Genotype } from '../../src/nas/index.js';
import { loadTrainedNetwork, runTraining } from '../../src/experiments/train-run.js';
import { noGrad, tensor } from '../../src/torch/index.js';
import { Rng } from '../../src/util/rng.js';
import { runPython } from '../helpers/python.js';
import { repoRoot } from '../helpers/fixtures.js';
import { tempDir, tinyEvalConfig } from './helpers.js';

const MODULE = join(repoRoot, 'test', 'eval', 'py', 'darts_eval.py');

/** Every op but `noise` (random by design), FactorizedReduce skips, a non-contiguous concat. */
const ALL_OPS: Genotype = genotypeFromJSON({
  normal: [['sep_conv_5x5', 0], ['dil_conv_5x5', 1], ['avg_pool_3x3', 0], ['conv_7x1_1x7', 2], ['none', 1], ['sep_conv_7x7', 3], ['skip_connect', 0], ['dil_conv_3x3', 4]],
  normalConcat: [2, 3, 4, 5],
  reduce: [['skip_connect', 0], ['max_pool_3x3', 1], ['avg_pool_3x3', 0], ['sep_conv_3x3', 2], ['conv_7x1_1x7', 1], ['skip_connect', 3], ['dil_conv_5x5', 0], ['none', 1]],
  reduceConcat: [2, 4, 5],
});

async function logitsAgree(name: string, genotype: Genotype, size: number): Promise<void> {
  const dir = tempDir(`pylogits-${name}`);
  try {
    const run = join(dir.path, 'run');
    const cfg = tinyEvalConfig({ epochs: 1, synthetic: { n: 48, testN: 16, channels: 3, size, numClasses: 5 }, batchSize: 16 }, genotype);
    // a real (if short) training, so weights and batch-norm statistics are not at their init
    await runTraining(cfg, {}, { out: run });
    const { model } = loadTrainedNetwork(run);
    const N = 3;
    const rng = new Rng(11);
    const x = new Float32Array(N * 3 * size * size).map(() => rng.normal());
    const inputPath = join(dir.path, 'x.f32');
    writeFileSync(inputPath, Buffer.from(x.buffer));
    let ours: number[];
    try {
      ours = noGrad(() => {
        const out = model.forward(tensor(x, [N, 3, size, size]));
        assert.equal(out.auxLogits, null);
        const v = out.logits.toNumbers();
        out.logits.dispose();
        return v;
      });
    } finally {
      model.dispose();
    }
    const req = { genotype, C: cfg.channels, layers: cfg.layers, numClasses: 5, inChannels: 3, auxiliary: true, weights: join(run, 'model.safetensors'), input: inputPath, shape: [N, 3, size, size] };
    const script = `import runpy, sys\nsys.argv = ['darts_eval.py']\nrunpy.run_path(${JSON.stringify(MODULE)}, run_name='__main__')\n`;
    const py = runPython(script, req);
    assert.deepEqual(py.shape, [N, 5]);
    assert.equal(py.logits.length, ours.length);
    let worst = 0;
    ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - py.logits[i]))));
    assert.ok(worst <= 1e-5, `${name}: logits differ by up to ${worst}`);
    assert.ok(ours.some((v) => Math.abs(v) > 1e-3), 'logits are all ~0: the comparison would prove nothing');
  } finally {
    dir.cleanup();
  }
}

test('python logits: DARTS_V2 (3 cells, 4 channels, auxiliary head) loads into DARTS NetworkCIFAR and agrees to 1e-5', { timeout: 120_000 }, async () => {
  await logitsAgree('v2', getPublishedGenotype('DARTS_V2'), 16);
});

test('python logits: a cell with every deterministic op (incl. conv_7x1_1x7, none, FactorizedReduce skips) agrees to 1e-5', { timeout: 120_000 }, async () => {
  await logitsAgree('all', ALL_OPS, 16);
});
