/**
 * `rdarts train --space rnn` (docs/lm.md#training-a-recurrent-cell): a tiny DARTS_V2 evaluation
 * model on a Markov corpus in PTB format, SIGKILLed in the middle of epoch 1 and continued with
 * --resume, ends bitwise where an uninterrupted run ends (every checkpoint tensor, result.json's
 * perplexities, metrics.jsonl but the timings); a second writer is refused; a missing PTB names its files.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { acquireRunLock } from '../../src/experiments/lock.js';
import { checkpointValues, readJsonl, sameBits } from '../search/helpers.js';
import { cli } from '../eval/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { writeMarkovPtb } from './helpers.js';

const noSeconds = (l: Record<string, unknown>) => JSON.parse(JSON.stringify(l, (k, v) => (k === 'seconds' ? undefined : v)));

test('rdarts train --space rnn: SIGKILL mid-epoch, then --resume, ends bitwise as an uninterrupted run', { timeout: 180_000 }, async () => {
  const dir = tempDir('lm-train-kill');
  try {
    const data = join(dir.path, 'data');
    writeMarkovPtb(data, 3);
    const common = ['train', '--space', 'rnn', '--genotype', 'DARTS_V2', '--dataset', 'ptb', '--data-dir', data, '--epochs', '3', '--batch-size', '4', '--bptt', '6', '--hidden-size', '8', '--steps-per-epoch', '5', '--eval-batches', '3', '--log-every', '1', '--seed', '3'];
    const full = join(dir.path, 'full');
    const killed = join(dir.path, 'killed');
    const [a, b] = await Promise.all([cli([...common, '--out', full]), cli([...common, '--out', killed], /^epoch 1 step 2:/m)]);
    assert.equal(a.code, 0, `uninterrupted run failed: ${a.stderr}`);
    assert.match(a.stdout, /test perplexity of the best model \(epoch \d\): \d/);
    assert.equal(b.signal, 'SIGKILL', `the run was not killed (code ${b.code}): ${b.stderr.slice(-2000)}`);
    assert.deepEqual(listCheckpoints(join(killed, 'checkpoints')), [0]);
    // a second writer is refused while the folder's lock is held
    const lock = acquireRunLock(killed, { what: 'test' });
    try {
      const r = await cli(['train', '--resume', killed]);
      assert.notEqual(r.code, 0);
      assert.match(r.stderr, /test process/);
    } finally {
      lock.release();
    }
    const c = await cli(['train', '--resume', killed, '--log-every', '1']);
    assert.equal(c.code, 0, `resume failed: ${c.stderr}`);
    assert.match(c.stderr, /resumed after epoch 0/);
    const fa = checkpointValues(join(full, 'checkpoints'));
    const fb = checkpointValues(join(killed, 'checkpoints'));
    assert.equal(fa.epoch, 2);
    assert.equal(fb.epoch, 2);
    assert.deepEqual([...fb.values.keys()].sort(), [...fa.values.keys()].sort());
    assert.ok(fa.values.has('w.encoder.weight') && fa.values.has('best.w.encoder.weight'));
    for (const [name, v] of fa.values) assert.ok(sameBits(fb.values.get(name)!.data, v.data), `${name} differs between the resumed and the uninterrupted run`);
    const ra = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8'));
    assert.ok(ra.test.ppl > 1 && Number.isFinite(ra.test.ppl));
    assert.deepEqual([rb.test, rb.valid, rb.bestEpoch, rb.epochs], [ra.test, ra.valid, ra.bestEpoch, ra.epochs]);
    const ma = readJsonl(join(full, 'metrics.jsonl'));
    const mb = readJsonl(join(killed, 'metrics.jsonl'));
    assert.deepEqual(mb.filter((l) => l.kind === 'epoch').map((l) => l.epoch), [0, 1, 2]);
    assert.ok(ma.every((l) => l.kind !== 'epoch' || typeof (l.valid as { ppl?: unknown }).ppl === 'number'));
    assert.deepEqual(mb.map(noSeconds), ma.map(noSeconds));
    const cfg = JSON.parse(readFileSync(join(full, 'config.json'), 'utf8'));
    assert.equal(cfg.kind, 'lm-train');
    assert.equal(cfg.nhid, 8);
  } finally {
    dir.cleanup();
  }
});

test('rdarts train --space rnn: a missing PTB names its files; CNN-only flags are refused', async () => {
  const dir = tempDir('lm-train-cli');
  try {
    const m = await cli(['train', '--space', 'rnn', '--dataset', 'ptb', '--data-dir', join(dir.path, 'none'), '--out', join(dir.path, 'y')]);
    assert.equal(m.code, 3, m.stderr);
    assert.match(m.stderr, /ptb\.train\.txt/);
    assert.match(m.stderr, /--download/);
    const r = await cli(['train', '--space', 'rnn', '--layers', '3', '--out', join(dir.path, 'x')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--layers does not apply to --space rnn/);
  } finally {
    dir.cleanup();
  }
});

test('rdarts train --space rnn --config: the file sets training fields, flags override it, a bad field is named with the file', { timeout: 120_000 }, async () => {
  const dir = tempDir('lm-train-config');
  try {
    const data = join(dir.path, 'data');
    writeMarkovPtb(data, 3);
    const file = join(dir.path, 'train.yaml');
    writeFileSync(file, 'epochs: 1\nemsize: 6\nnhid: 6\nbatchSize: 4\nbptt: 5\nstepsPerEpoch: 2\nevalBatches: 1\nseed: 9\n');
    const out = join(dir.path, 'run');
    const r = await cli(['train', '--space', 'rnn', '--genotype', 'DARTS_V2', '--dataset', 'ptb', '--data-dir', data, '--config', file, '--seed', '4', '--out', out]);
    assert.equal(r.code, 0, r.stderr);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    assert.deepEqual([cfg.nhid, cfg.emsize, cfg.bptt, cfg.epochs, cfg.seed], [6, 6, 5, 1, 4]);
    const bad = join(dir.path, 'bad.yaml');
    writeFileSync(bad, 'epochs: 1\nbptt: -3\n');
    const b = await cli(['train', '--space', 'rnn', '--genotype', 'DARTS_V2', '--dataset', 'ptb', '--data-dir', data, '--config', bad, '--out', join(dir.path, 'b')]);
    assert.notEqual(b.code, 0);
    assert.match(b.stderr, /bad\.yaml/);
    assert.match(b.stderr, /bptt/);
  } finally {
    dir.cleanup();
  }
});
