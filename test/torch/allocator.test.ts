/**
 * The addon's allocator policy (docs/speed.md#allocator): the caching allocator by default,
 * glibc's heap on request (RDARTS_MALLOC=keep / system); the same values under each; the cache
 * reuses freed blocks, holds no more idle than RDARTS_CACHE_MB, and gives its idle blocks back.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { allocatorCacheStats, allocatorPolicy, emptyAllocatorCache, zeros } from '../../src/torch/index.js';

const index = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'src', 'torch', 'index.js');

/** Run `body` (a function of the torch module T) in a fresh process with `env`; its stdout. */
function child(env: NodeJS.ProcessEnv, body: string): { status: number | null; stdout: string; stderr: string } {
  const base = { ...process.env };
  delete base.RDARTS_MALLOC;
  delete base.RDARTS_CACHE_MB;
  const script = `import(${JSON.stringify(index)}).then((T) => { ${body} }).catch((e) => { process.stderr.write(e.message); process.exit(3); });`;
  const r = spawnSync(process.execPath, ['-e', script], { env: { ...base, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const policyAndSum = `T.manualSeed(3); const x = T.randn([256, 1024]); process.stdout.write(T.allocatorPolicy() + ' ' + x.square().sum().item().toFixed(0));`;

test('allocator policy: the cache by default, keep (on glibc) and system on request, the same values under each', () => {
  const glibc = (process.report?.getReport() as { header?: { glibcVersionRuntime?: string } } | undefined)?.header?.glibcVersionRuntime;
  const runs = new Map<string, string[]>();
  for (const policy of ['', 'cache', 'keep', 'system']) {
    const r = child(policy ? { RDARTS_MALLOC: policy } : {}, policyAndSum);
    assert.equal(r.status, 0, r.stderr);
    runs.set(policy, r.stdout.split(' '));
  }
  assert.equal(runs.get('')![0], 'cache');
  assert.equal(runs.get('cache')![0], 'cache');
  assert.equal(runs.get('keep')![0], glibc ? 'keep' : 'system');
  assert.equal(runs.get('system')![0], 'system');
  const sums = [...runs.values()].map((r) => r[1]);
  assert.ok(Number(sums[0]) > 200000, `a tensor computed under the policy: Σx² = ${sums[0]}`);
  for (const s of sums) assert.equal(s, sums[0], 'the same values under every policy');
});

test('allocator policy: a misspelt RDARTS_MALLOC or RDARTS_CACHE_MB is an error that names the variable', () => {
  const bad = child({ RDARTS_MALLOC: 'tcmalloc' }, `process.stdout.write('loaded');`);
  assert.equal(bad.status, 3);
  assert.match(bad.stderr, /RDARTS_MALLOC='tcmalloc' is not an allocator policy: use cache \(the default\), keep or system/);
  const cap = child({ RDARTS_CACHE_MB: 'lots' }, `process.stdout.write('loaded');`);
  assert.equal(cap.status, 3);
  assert.match(cap.stderr, /RDARTS_CACHE_MB='lots' is not a size/);
  const inf = child({ RDARTS_CACHE_MB: 'Infinity' }, `process.stdout.write('loaded');`);
  assert.equal(inf.status, 3);
  assert.match(inf.stderr, /RDARTS_CACHE_MB='Infinity' is not a size/);
});

test('caching allocator: a freed block is handed out again for the same size class, idle blocks go back on request', (t) => {
  if (allocatorPolicy() !== 'cache') return t.skip(`this process runs the ${allocatorPolicy()} policy (RDARTS_MALLOC)`);
  emptyAllocatorCache();
  const s0 = allocatorCacheStats();
  assert.equal(s0.idleBytes, 0);
  // 3 MiB + a little: its class is 3.25 MiB (eight classes per power of two: steps of 256 KiB above 2 MiB)
  const n = (3 << 20) / 4 + 17;
  const a = zeros([n]);
  const s1 = allocatorCacheStats();
  assert.equal(s1.misses, s0.misses + 1, 'a fresh size class is a miss');
  assert.equal(s1.liveBytes - s0.liveBytes, 3.25 * (1 << 20), 'rounded up to its size class');
  a.dispose();
  const s2 = allocatorCacheStats();
  assert.equal(s2.idleBytes, 3.25 * (1 << 20), 'the freed block is kept');
  const b = zeros([n + 1000]); // another size of the same class
  const s3 = allocatorCacheStats();
  assert.equal(s3.hits, s2.hits + 1, 'the kept block served a request of its class');
  assert.equal(s3.misses, s2.misses, 'no new block');
  assert.equal(s3.idleBytes, 0);
  b.dispose();
  assert.ok(allocatorCacheStats().idleBytes > 0);
  emptyAllocatorCache();
  const s4 = allocatorCacheStats();
  assert.equal(s4.idleBytes, 0, 'emptyAllocatorCache hands every idle block back');
  assert.ok(s4.released > s3.released);
});

test('caching allocator: RDARTS_CACHE_MB=0 keeps nothing idle; values are unchanged', () => {
  const body = `T.manualSeed(5); let s = 0; for (let i = 0; i < 4; i++) { const x = T.randn([300, 1000]); s += x.square().sum().item(); x.dispose(); }
    const st = T.allocatorCacheStats(); process.stdout.write(JSON.stringify({ s: s.toFixed(1), ...st }));`;
  const off = child({ RDARTS_CACHE_MB: '0' }, body);
  assert.equal(off.status, 0, off.stderr);
  const on = child({}, body);
  assert.equal(on.status, 0, on.stderr);
  const a = JSON.parse(off.stdout) as { s: string; hits: number; released: number; idleBytes: number };
  const b = JSON.parse(on.stdout) as { s: string; hits: number; released: number; idleBytes: number };
  assert.equal(a.s, b.s, 'the same values with and without a cache');
  assert.equal(a.idleBytes, 0);
  assert.ok(a.released >= 4, `every freed block went back (released ${a.released})`);
  assert.ok(b.hits >= 3, `with the default cap the loop reuses its blocks (hits ${b.hits})`);
});
