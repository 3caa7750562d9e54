/**
 * Kill-and-resume through the CLI: `rdarts search` killed with SIGKILL in the middle of epoch 2,
 * then `rdarts search --resume DIR`, ends bitwise where an uninterrupted run of the same config
 * ends (all tensors of the last checkpoint, result.json's genotype), and its metrics.jsonl /
 * genotypes.jsonl equal the uninterrupted ones line by line except the timings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCheckpoints } from '../../src/experiments/checkpoint.js';
import { checkpointValues, readJsonl, sameBits } from './helpers.js';
import { childEnv } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1' });

interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/** Run the CLI; if `killAt` matches a stderr line, SIGKILL the process right then. */
function cli(args: string[], killAt?: RegExp): Promise<Outcome> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let killed = false;
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killAt && !killed && killAt.test(stderr)) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.on('error', rej);
    p.on('close', (code, signal) => res({ code, signal, stderr, stdout }));
  });
}

/** Drop every `seconds` field (wall-clock timings), at any depth. */
function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== 'seconds')
        .map(([k, x]) => [k, withoutTimings(x)]),
    );
  }
  return v;
}

test('SIGKILL mid-epoch, then --resume: bitwise the same final checkpoint, genotype and logs as an uninterrupted run', { timeout: 180_000 }, async () => {
  const dir = tempDir('kill');
  try {
    const config = join(dir.path, 'tiny.yaml');
    writeFileSync(config, ['synthetic: { n: 96, channels: 3, size: 8, numClasses: 4 }', 'hessian: { every: 2, lanczosIterations: 6, topK: 2 }', 'keepCheckpoints: 2', ''].join('\n'));
    const common = ['search', '--config', config, '--dataset', 'synthetic', '--space', 's3', '--layers', '3', '--channels', '2', '--epochs', '4', '--batch-size', '8', '--steps-per-epoch', '6', '--eval-batches', '1', '--log-every', '1', '--seed', '2'];
    const full = join(dir.path, 'full');
    const killed = join(dir.path, 'killed');
    const [a, b] = await Promise.all([cli([...common, '--out', full]), cli([...common, '--out', killed], /^epoch 2 step 3\/6 /m)]);
    assert.equal(a.code, 0, `uninterrupted run failed: ${a.stderr}`);
    assert.equal(b.signal, 'SIGKILL', `the run was not killed (code ${b.code}): ${b.stderr.slice(-2000)}`);
    // killed in the middle of epoch 2: epochs 0 and 1 are checkpointed, epoch 2's is not
    assert.deepEqual(listCheckpoints(join(killed, 'checkpoints')), [0, 1]);
    const c = await cli(['search', '--resume', killed, '--log-every', '1']);
    assert.equal(c.code, 0, `resume failed: ${c.stderr}`);
    assert.match(c.stderr, /resumed after epoch 1/);

    const fa = checkpointValues(join(full, 'checkpoints'));
    const fb = checkpointValues(join(killed, 'checkpoints'));
    assert.equal(fa.epoch, 3);
    assert.equal(fb.epoch, 3);
    assert.deepEqual([...fb.values.keys()].sort(), [...fa.values.keys()].sort());
    for (const need of ['alpha.normal', 'alpha.reduce', 'sgd.momentum.0', 'adam.exp_avg.0', 'adam.exp_avg_sq.1']) assert.ok(fa.values.has(need), `checkpoint lacks ${need}`);
    assert.ok([...fa.values.keys()].some((k) => k.startsWith('buf.') && k.endsWith('running_mean')), 'checkpoint lacks batch-norm buffers');
    for (const [name, v] of fa.values) {
      const w = fb.values.get(name)!;
      assert.deepEqual(w.shape, v.shape, name);
      assert.ok(sameBits(w.data, v.data), `${name} differs between the resumed and the uninterrupted run`);
    }
    const ra = JSON.parse(readFileSync(join(full, 'result.json'), 'utf8'));
    const rb = JSON.parse(readFileSync(join(killed, 'result.json'), 'utf8'));
    assert.deepEqual(rb.genotype, ra.genotype);
    assert.equal(rb.repr, ra.repr);
    assert.deepEqual(rb.finalValid, ra.finalValid);

    const ma = readJsonl(join(full, 'metrics.jsonl'));
    const mb = readJsonl(join(killed, 'metrics.jsonl'));
    assert.deepEqual(mb.filter((l) => l.kind === 'epoch').map((l) => l.epoch), [0, 1, 2, 3], 'epochs duplicated or missing in the resumed log');
    assert.deepEqual(ma.filter((l) => l.kind === 'hessian').map((l) => l.epoch), [0, 2, 3]);
    assert.equal(mb.length, ma.length);
    mb.forEach((l, i) => assert.deepEqual(withoutTimings(l), withoutTimings(ma[i]), `metrics line ${i + 1} differs`));
    assert.deepEqual(readJsonl(join(killed, 'genotypes.jsonl')).map(withoutTimings), readJsonl(join(full, 'genotypes.jsonl')).map(withoutTimings));
  } finally {
    dir.cleanup();
  }
});
