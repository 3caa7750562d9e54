/**
 * Engine bench: per-op call overhead and a sep_conv_3x3 block forward+backward (B64, C16, 32×32),
 * against Python torch (Debian's python3-torch) measured in the same run, interleaved, as ratios.
 *   node dist/bench/engine.js [rounds=3]
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { ones, randn, F, tidy, getNumThreads, manualSeed, type Tensor } from '../src/torch/index.js';

const rounds = Number(process.argv[2] ?? 3);
const pyScript = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'py', 'engine.py');

function jsRound(): { add_us: number; add_scope_us?: number; add_grad_us: number; block_ms_median: number; block_ms_min: number } {
  manualSeed(0);
  // the conv block first, in a process whose allocator has not yet seen 250k tiny tensors
  const B = 64, C = 16, H = 32;
  const x = randn([B, C, H, H]);
  const mk = (s: number[]): Tensor => randn(s, { requiresGrad: true });
  const w1 = mk([C, 1, 3, 3]), p1 = mk([C, C, 1, 1]), w2 = mk([C, 1, 3, 3]), p2 = mk([C, C, 1, 1]);
  // Written the way the library's modules are: the forward runs in its own scope, so its
  // intermediates are freed before backward (as Python frees them when their last reference
  // drops); only what autograd saved stays alive. Holding every intermediate until after
  // backward makes this block ~1.7× slower on this machine (allocation and cache effects).
  const block = (): void =>
    tidy(() => {
      const loss = tidy(() => {
        let h = x.relu();
        h = F.conv2d(F.conv2d(h, w1, null, { padding: 1, groups: C }), p1);
        h = F.batchNorm(h, null, null, { training: true }).relu();
        h = F.conv2d(F.conv2d(h, w2, null, { padding: 1, groups: C }), p2);
        h = F.batchNorm(h, null, null, { training: true });
        return h.mean();
      });
      loss.backward();
    });
  for (let i = 0; i < 3; i++) block();
  const times: number[] = [];
  for (let i = 0; i < 15; i++) {
    const s = performance.now();
    block();
    times.push(performance.now() - s);
  }
  times.sort((p, q) => p - q);
  const N = 200000;
  const a = ones([1]);
  for (let i = 0; i < 2000; i++) a.add(a).dispose();
  let t = performance.now();
  for (let i = 0; i < N; i++) a.add(a).dispose();
  const addUs = ((performance.now() - t) / N) * 1e3;
  // the usual form in training code: ops inside a scope (one scope per 100 ops here)
  t = performance.now();
  for (let i = 0; i < N / 100; i++) tidy(() => { for (let j = 0; j < 100; j++) a.add(a); });
  const addScopeUs = ((performance.now() - t) / N) * 1e3;
  const ag = ones([1], { requiresGrad: true });
  t = performance.now();
  for (let i = 0; i < N / 4; i++) ag.add(ag).dispose();
  const addGUs = ((performance.now() - t) / (N / 4)) * 1e3;
  for (const z of [a, ag, x, w1, p1, w2, p2]) z.dispose();
  return { add_us: addUs, add_scope_us: addScopeUs, add_grad_us: addGUs, block_ms_median: times[7]!, block_ms_min: times[0]! };
}

const median = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
const js: ReturnType<typeof jsRound>[] = [];
const py: ReturnType<typeof jsRound>[] = [];
for (let r = 0; r < rounds; r++) {
  js.push(jsRound());
  const out = spawnSync('/usr/bin/python3', [pyScript, String(getNumThreads())], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`python reference failed: ${out.stderr}`);
  py.push(JSON.parse(out.stdout.trim().split('\n').pop()!));
}
console.log(`(add_us: explicit dispose outside scopes; add_scope_us: inside tidy scopes, compared with the same Python add)`);
console.log(`engine bench: ${rounds} interleaved rounds, ${getNumThreads()} threads, medians over rounds (JS / Python = ratio)`);
const rows: Array<[string, number, number]> = [];
for (const k of ['add_us', 'add_scope_us', 'add_grad_us', 'block_ms_median', 'block_ms_min'] as const) {
  const j = median(js.map((x) => x[k]!));
  const p = median(py.map((x) => (k === 'add_scope_us' ? x.add_us : x[k])!));
  rows.push([k, j, p]);
}
for (const [k, j, p] of rows) {
  console.log(`  ${k.padEnd(16)} ${j.toFixed(3).padStart(9)} / ${p.toFixed(3).padStart(9)}  ratio ${(j / p).toFixed(3)}`);
}
