/**
 * One writer per run folder (experiments/lock.ts): a second writer is refused with an error
 * naming the holder and writes nothing; a lock left by a SIGKILLed process is taken over.
 * The CLI test is the scenario: `rdarts search` running, `rdarts search --resume` on its
 * folder refused, the first SIGKILLed, the resume then accepted and the logs hold each epoch once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireRunLock, isLocked, readLockHolder, RunLockedError, LOCK_DIR, LOCK_HOLDER } from '../../src/experiments/lock.js';
import { childEnv } from '../helpers/threads.js';
import { tempDir } from '../helpers/tmp.js';

const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1', RDARTS_BUSY_WARNING: '0' });

/** A PID that is certainly not running: a child that has exited. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
  return Number(r.stdout.toString());
}

test('a second writer is refused with the holder named; release frees the folder and removes the lock files', () => {
  const tmp = tempDir('lock');
  try {
    const dir = join(tmp.path, 'run');
    const a = acquireRunLock(dir, { what: 'search' });
    assert.ok(isLocked(dir));
    const h = readLockHolder(dir)!;
    assert.equal(h.pid, process.pid);
    assert.equal(h.host, hostname());
    assert.equal(h.what, 'search');
    assert.throws(
      () => acquireRunLock(dir, { what: 'train' }),
      (e: unknown) => e instanceof RunLockedError && e.exitCode === 9 && e.message.includes(`search process ${process.pid} on ${hostname()} since ${h.since}`),
    );
    a.release();
    a.release(); // idempotent
    assert.ok(!isLocked(dir));
    // the folder was created only for the lock: gone again
    assert.ok(!existsSync(dir));
    mkdirSync(dir);
    writeFileSync(join(dir, 'keep.txt'), 'x');
    acquireRunLock(dir).release();
    assert.deepEqual(readdirSync(dir), ['keep.txt']);
  } finally {
    tmp.cleanup();
  }
});

test('a lock whose holder PID is dead on this host is taken over at once; a live other-host holder is not', () => {
  const tmp = tempDir('lock-stale');
  try {
    const dir = tmp.path;
    mkdirSync(join(dir, LOCK_DIR));
    writeFileSync(join(dir, LOCK_HOLDER), JSON.stringify({ host: hostname(), pid: deadPid(), since: '2026-01-01T00:00:00.000Z', what: 'search' }));
    assert.ok(!isLocked(dir));
    const l = acquireRunLock(dir, { what: 'train' });
    assert.equal(readLockHolder(dir)!.pid, process.pid);
    l.release();
    // another host's fresh lock: refused (its PID cannot be checked from here)
    mkdirSync(join(dir, LOCK_DIR));
    writeFileSync(join(dir, LOCK_HOLDER), JSON.stringify({ host: 'elsewhere', pid: 1, since: '2026-01-01T00:00:00.000Z', what: 'search' }));
    assert.throws(() => acquireRunLock(dir), /search process 1 on elsewhere/);
    // … unless it was not refreshed for staleMs
    const l2 = acquireRunLock(dir, { staleMs: -1 });
    l2.release();
  } finally {
    tmp.cleanup();
  }
});

interface Proc {
  child: ReturnType<typeof spawn>;
  stderr: () => string;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) => child.on('close', (code, signal) => res({ code, signal })));
  return { child, stderr: () => err, done };
}

async function waitFor(p: Proc, re: RegExp, timeoutMs = 120_000): Promise<void> {
  const t0 = Date.now();
  while (!re.test(p.stderr())) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${re}: ${p.stderr().slice(-1500)}`);
    if (p.child.exitCode !== null) throw new Error(`process ended before ${re}: ${p.stderr().slice(-1500)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const f of readdirSync(dir)) if (f.endsWith('.jsonl') || f.endsWith('.json')) out[f] = readFileSync(join(dir, f), 'utf8');
  return out;
}

test('CLI: `rdarts search --resume` while the search runs is refused naming it; after SIGKILL the resume takes the lock over and every epoch is logged once', { timeout: 180_000 }, async () => {
  const tmp = tempDir('lock-cli');
  try {
    const out = join(tmp.path, 'run');
    const first = start(['search', '--dataset', 'synthetic', '--space', 's3', '--layers', '3', '--channels', '2', '--epochs', '3', '--batch-size', '8', '--steps-per-epoch', '4', '--eval-batches', '1', '--hessian-every', '0', '--log-every', '1', '--seed', '1', '--out', out]);
    await waitFor(first, /^epoch 1 step 2\/4 /m);
    first.child.kill('SIGSTOP'); // alive and holding the lock, but not writing
    try {
      const before = snapshot(out);
      const second = start(['search', '--resume', out]);
      const r = await second.done;
      assert.equal(r.code, 9, second.stderr());
      assert.match(second.stderr(), new RegExp(`is being written by search process ${first.child.pid} on ${hostname()} since `));
      assert.deepEqual(snapshot(out), before, 'the refused writer changed files');
      // a second fresh search into the same folder is refused the same way
      const third = start(['search', '--dataset', 'synthetic', '--epochs', '1', '--out', out]);
      assert.equal((await third.done).code, 9);
    } finally {
      first.child.kill('SIGKILL');
    }
    assert.equal((await first.done).signal, 'SIGKILL');
    assert.ok(existsSync(join(out, LOCK_DIR)), 'the killed search left its lock behind');
    const resumed = start(['search', '--resume', out, '--log-every', '1']);
    const rr = await resumed.done;
    assert.equal(rr.code, 0, resumed.stderr());
    assert.match(resumed.stderr(), /resumed after epoch 0/);
    const epochs = readFileSync(join(out, 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { kind?: string; epoch?: number })
      .filter((l) => l.kind === 'epoch')
      .map((l) => l.epoch);
    assert.deepEqual(epochs, [0, 1, 2]);
    assert.ok(!existsSync(join(out, LOCK_DIR)) && !existsSync(join(out, LOCK_HOLDER)), 'the lock files were not removed at the end');
  } finally {
    tmp.cleanup();
  }
});
