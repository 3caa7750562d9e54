/**
 * Kill-and-resume of a recurrent-cell search through the CLI: `rdarts search --space rnn` killed
 * with SIGKILL in the middle of epoch 1, then `rdarts search --resume DIR`, ends bitwise where an
 * uninterrupted run ends (every tensor of the last checkpoint, result.json), and its metrics.jsonl
 * and genotypes.jsonl equal the uninterrupted ones line by line except the timings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { checkpointValues, readJsonl, sameBits } from '../search/helpers.js';
import { cli } from '../eval/helpers.js';
import { tempDir } from '../helpers/tmp.js';
import { writeMarkovPtb } from './helpers.js';

const noSeconds = (l: Record<string, unknown>) => JSON.parse(JSON.stringify(l, (k, v) => (k === 'seconds' ? undefined : v)));

test('SIGKILL mid-epoch, then --resume: the recurrent search ends bitwise as an uninterrupted run', { timeout: 180_000 }, async () => {
  const dir = tempDir('lm-kill');
  try {
    const data = join(dir.path, 'data');
    writeMarkovPtb(data, 4);
    const config = join(dir.path, 'tiny.yaml');
    writeFileSync(config, ['space: rnn', 'hessian: { every: 1, lanczosIterations: 5, topK: 2 }', 'evalBatches: 3', ''].join('\n'));
    const common = ['search', '--config', config, '--dataset', 'ptb', '--data-dir', data, '--epochs', '3', '--batch-size', '4', '--bptt', '5', '--hidden-size', '6', '--eval-batch-size', '3', '--steps-per-epoch', '4', '--log-every', '1', '--seed', '5', '--order', 'second'];
    const full = join(dir.path, 'full');
    const killed = join(dir.path, 'killed');
    const [a, b] = await Promise.all([cli([...common, '--out', full]), cli([...common, '--out', killed], /^epoch 1 step 2:/m)]);
    assert.equal(a.code, 0, `uninterrupted run failed: ${a.stderr}`);
    assert.match(a.stdout, /final validation perplexity: \d/);
    assert.match(a.stdout, /genotype: Genotype\(recurrent=\[/);
    assert.equal(b.signal, 'SIGKILL', `the run was not killed (code ${b.code}): ${b.stderr.slice(-2000)}`);
    assert.deepEqual(listCheckpoints(join(killed, 'checkpoints')), [0]);
    const c = await cli(['search', '--resume', killed, '--log-every', '1']);
    assert.equal(c.code, 0, `resume failed: ${c.stderr}`);
    assert.match(c.stderr, /resumed after epoch 0/);
    const fa = checkpointValues(join(full, 'checkpoints'));
    const fb = checkpointValues(join(killed, 'checkpoints'));
    assert.equal(fa.epoch, 2);
    assert.equal(fb.epoch, 2);
    assert.deepEqual([...fb.values.keys()].sort(), [...fa.values.keys()].sort());
    for (const [name, v] of fa.values) assert.ok(sameBits(fb.values.get(name)!.data, v.data), `${name} differs between the resumed and the uninterrupted run`);
    assert.deepEqual(JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8')).finalValid, JSON.parse(readFileSync(join(full, 'result.json'), 'utf8')).finalValid);
    const ma = readJsonl(join(full, 'metrics.jsonl'));
    const mb = readJsonl(join(killed, 'metrics.jsonl'));
    assert.deepEqual(mb.filter((l) => l.kind === 'epoch').map((l) => l.epoch), [0, 1, 2]);
    assert.deepEqual(ma.filter((l) => l.kind === 'hessian').map((l) => l.epoch), [0, 1, 2]);
    assert.deepEqual(mb.map(noSeconds), ma.map(noSeconds));
    assert.deepEqual(readJsonl(join(killed, 'genotypes.jsonl')), readJsonl(join(full, 'genotypes.jsonl')));
  } finally {
    dir.cleanup();
  }
});

test('--space rnn refuses CNN-only flags by name; a missing PTB names its files', async () => {
  const dir = tempDir('lm-cli');
  try {
    const r = await cli(['search', '--space', 'rnn', '--layers', '3', '--out', join(dir.path, 'x')]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /--layers does not apply to --space rnn/);
    const w = await cli(['search', '--space', 'rnn', '--hessian-warm-start', '--out', join(dir.path, 'w')]);
    assert.notEqual(w.code, 0);
    assert.match(w.stderr, /hessian\.warmStart is not available for the recurrent search/);
    const m = await cli(['search', '--space', 'rnn', '--dataset', 'ptb', '--data-dir', join(dir.path, 'none'), '--out', join(dir.path, 'y')]);
    assert.equal(m.code, 3, m.stderr);
    assert.match(m.stderr, /ptb\.train\.txt/);
    assert.match(m.stderr, /--download/);
    // bad input loses nothing and leaves nothing: no run folder for the missing corpus
    assert.ok(!existsSync(join(dir.path, 'y')), 'a search refused for missing data left its --out folder');
  } finally {
    dir.cleanup();
  }
});
