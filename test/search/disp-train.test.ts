/**
 * Training a found S6 cell from scratch (search/disp/eval.ts, experiments/disp-train-run.ts):
 * a training stopped after its first epoch and resumed ends bitwise where an uninterrupted one
 * ends (every checkpoint tensor, the test EPE, metrics.jsonl but the timings); the genotype
 * sources (repr, JSON file, S6 search folder) and their errors; a malformed field is named.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generateSyntheticStereo } from '../../src/data/index.js';
import { dispGenotypeToJSON, formatDispGenotypeRepr, deriveDispGenotype, cellEdges, S6_OPS } from '../../src/nas/disp/genotype.js';
import { MINI_DISP_EVAL_OVERRIDES, resolveDispEvalConfig, DispEvalTrainer } from '../../src/search/disp/eval.js';
import { resolveDispGenotypeSource, resumeDispTraining, runDispTraining } from '../../src/experiments/disp-train-run.js';
import { RunDir } from '../../src/experiments/run-dir.js';
import { RunFolderRecorder } from '../../src/experiments/run-recorder.js';
import { ConfigError, GenotypeError } from '../../src/errors.js';
import { checkpointValues, readJsonl, sameBits } from './helpers.js';
import { tempDir } from '../helpers/tmp.js';

const steps = 2;
const alpha = (inputs: number, seed: number) => Array.from({ length: cellEdges(inputs, steps) }, (_, e) => S6_OPS.map((_o, k) => Math.sin(seed + 3 * e + k)));
const genotype = deriveDispGenotype({ normal: alpha(2, 1), reduce: alpha(2, 2), upsample: alpha(4, 3) }, steps);

function config(epochs: number) {
  return resolveDispEvalConfig(MINI_DISP_EVAL_OVERRIDES as Record<string, unknown>, {
    genotype: dispGenotypeToJSON(genotype),
    genotypeSource: 'test',
    epochs,
    stepsPerEpoch: 2,
    evalBatches: 1,
    synthetic: { n: 8, testN: 4, height: 32, width: 64, maxDisparity: 8, seed: 5 },
  });
}

function data() {
  return {
    train: generateSyntheticStereo({ n: 8, height: 32, width: 64, maxDisparity: 8, seed: 5 }),
    test: generateSyntheticStereo({ n: 4, height: 32, width: 64, maxDisparity: 8, seed: 6 }),
    sintel: null,
  };
}

const noSeconds = (l: Record<string, unknown>) => JSON.parse(JSON.stringify(l, (k, v) => (k === 'seconds' ? undefined : v)));

test('S6 training: stopped after epoch 0 and resumed, it ends bitwise as an uninterrupted training', { timeout: 120_000 }, async () => {
  const t = tempDir('disp-train');
  try {
    const full = join(t.path, 'full');
    const a = await runDispTraining(config(2), full, { data: data() });
    assert.ok(Number.isFinite(a.test.epe) && a.test.epe > 0 && a.test.pairs === 4, JSON.stringify(a.test));
    // the same training, but only its first epoch runs in this process (a trainer whose run ends after epoch 0)
    const part = join(t.path, 'part');
    const dir = new RunDir(part);
    dir.ensure();
    const cfg = config(2);
    const first = new DispEvalTrainer({ ...cfg, epochs: 1 }, data(), { recorder: new RunFolderRecorder(dir) });
    dir.writeConfig({ ...first.describe(), epochs: 2 });
    await first.run();
    first.dispose();
    const b = await resumeDispTraining(part, { data: data() });
    assert.equal(b.test.epe, a.test.epe);
    const ca = checkpointValues(join(full, 'checkpoints'));
    const cb = checkpointValues(join(part, 'checkpoints'));
    assert.equal(ca.epoch, 1);
    assert.equal(cb.epoch, 1);
    assert.ok(ca.values.size > 10);
    for (const [k, v] of ca.values) assert.ok(sameBits(v.data, cb.values.get(k)!.data), `tensor ${k} differs after the resume`);
    assert.deepEqual(readJsonl(join(part, 'metrics.jsonl')).map(noSeconds), readJsonl(join(full, 'metrics.jsonl')).map(noSeconds));
    const r = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    assert.equal(r.testEpe, a.test.epe);
    assert.equal(r.sintelEpe, null);
    assert.equal(r.parameters, a.parameters);
  } finally {
    t.cleanup();
  }
});

test('S6 genotype sources: repr, JSON file, search folder; errors name what is wrong', () => {
  const t = tempDir('disp-geno');
  try {
    const repr = formatDispGenotypeRepr(genotype);
    assert.deepEqual(resolveDispGenotypeSource(repr).genotype, genotype);
    const file = join(t.path, 'g.json');
    writeFileSync(file, JSON.stringify(dispGenotypeToJSON(genotype)));
    assert.deepEqual(resolveDispGenotypeSource(file).genotype, genotype);
    const run = join(t.path, 'run');
    mkdirSync(run);
    writeFileSync(join(run, 'config.json'), JSON.stringify({ space: 's6', network: { C: 2 } }));
    assert.throws(() => resolveDispGenotypeSource(run), (e: unknown) => e instanceof ConfigError && /has no result\.json/.test(e.message));
    writeFileSync(join(run, 'result.json'), JSON.stringify({ genotype: dispGenotypeToJSON(genotype) }));
    const s = resolveDispGenotypeSource(run);
    assert.deepEqual(s.genotype, genotype);
    assert.equal(s.searchRun, run);
    assert.throws(() => resolveDispGenotypeSource(repr.replace("'sep_conv", "'conv_9x9").replace("'dil_conv", "'conv_9x9")), (e: unknown) => e instanceof GenotypeError);
    assert.throws(
      () => resolveDispEvalConfig(MINI_DISP_EVAL_OVERRIDES as Record<string, unknown>, { genotype: dispGenotypeToJSON(genotype), genotypeSource: 'x', augment: -1 }),
      (e: unknown) => e instanceof ConfigError && /augment/.test(e.message),
    );
  } finally {
    t.cleanup();
  }
});
