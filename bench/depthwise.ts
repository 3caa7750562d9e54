/**
 * Depthwise-convolution bench (docs/speed.md#depthwise): forward + backward (input and weight
 * gradients) of one depthwise conv for each DARTS geometry (sep 3×3 / 5×5, dil 3×3 / 5×5) and of
 * the separable convs' 1×1 C → C conv (docs/speed.md#pointwise) at B64 C16 32×32, with libtorch's backward and with the addon's (setDepthwiseKernel), against
 * PyTorch (bench/py/depthwise.py) in the same run, rounds interleaved TS / PyTorch; median ms.
 *
 *   node dist/bench/depthwise.js [--rounds 3] [--batch 64] [--channels 16] [--size 32]
 *   node dist/bench/depthwise.js --forward --batch 32 --channels 16 --size 16   # forward only, no grad
 *
 * --forward times the forward alone without autograd (the addon's direct kernel or oneDNN, as the
 * width rule in native/src/depthwise.cc picks; libtorch's forward on the libtorch side).
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { F, Tensor, getNumThreads, grad, manualSeed, noGrad, randn, setDepthwiseKernel, tidy, type DepthwiseKernel } from '../src/torch/index.js';

/** [name, kernel, padding, dilation, groups = C (depthwise) or 1 (the separable convs' 1×1, docs/speed.md#pointwise)] */
const GEOMS: Array<[string, number, number, number, 'depthwise' | 'dense']> = [
  ['sep 3x3', 3, 1, 1, 'depthwise'],
  ['sep 5x5', 5, 2, 1, 'depthwise'],
  ['dil 3x3', 3, 2, 2, 'depthwise'],
  ['dil 5x5', 5, 4, 2, 'depthwise'],
  ['1x1 C→C', 1, 0, 1, 'dense'],
];

function flag(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} needs a positive integer`);
  return v;
}

const rounds = flag('rounds', 3);
const B = flag('batch', 64);
const C = flag('channels', 16);
const S = flag('size', 32);
const forwardOnly = process.argv.includes('--forward');
const reps = 15;
const median = (v: number[]): number => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;

function tsRound(kind: DepthwiseKernel): Record<string, number> {
  const prev = setDepthwiseKernel(kind);
  try {
    manualSeed(0);
    const out: Record<string, number> = {};
    tidy(() => {
      const x = randn([B, C, S, S], { requiresGrad: true });
      for (const [name, k, pad, dil, kind] of GEOMS) {
        const groups = kind === 'depthwise' ? C : 1;
        const w = randn([C, C / groups, k, k], { requiresGrad: true });
        const conv = (): Tensor => F.conv2d(x, w, null, { padding: pad, dilation: dil, groups });
        // nothing returned from tidy: every tensor is freed at once (a leaked one would fault its pages in again)
        const once = forwardOnly ? (): void => noGrad(() => tidy(() => void conv())) : (): void => tidy(() => void grad(conv().square().mean(), [x, w]));
        for (let i = 0; i < 3; i++) once();
        const ts: number[] = [];
        for (let i = 0; i < reps; i++) {
          const t0 = performance.now();
          once();
          ts.push(performance.now() - t0);
        }
        out[name] = median(ts);
      }
    });
    return out;
  } finally {
    setDepthwiseKernel(prev);
  }
}

const py = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'py', 'depthwise.py');
const threads = getNumThreads();
const acc: Record<'libtorch' | 'native' | 'py', Record<string, number[]>> = { libtorch: {}, native: {}, py: {} };
const push = (side: keyof typeof acc, r: Record<string, number>): void => {
  for (const [k, v] of Object.entries(r)) (acc[side][k] ??= []).push(v);
};
const what = forwardOnly ? 'forward (no grad)' : 'fwd+bwd';
console.log(`depthwise conv ${what}, B${B} C${C} ${S}×${S}, ${threads} thread(s), ${rounds} interleaved rounds (median of ${reps} each)`);
for (let r = 0; r < rounds; r++) {
  push('libtorch', tsRound('libtorch'));
  push('native', tsRound('native'));
  const p = spawnSync('/usr/bin/python3', [py, '--batch', String(B), '--C', String(C), '--size', String(S), '--threads', String(threads), ...(forwardOnly ? ['--forward'] : [])], { encoding: 'utf8' });
  if (p.status !== 0) throw new Error(`python twin failed: ${p.stderr}`);
  push('py', (JSON.parse(p.stdout.trim().split('\n').pop()!) as { ms: Record<string, number> }).ms);
}
console.log(`| conv | TS libtorch (ms) | TS native (ms) | PyTorch (ms) | native / libtorch | native / PyTorch |`);
console.log('|---|---|---|---|---|---|');
for (const [name] of GEOMS) {
  const l = Math.min(...acc.libtorch[name]!);
  const n = Math.min(...acc.native[name]!);
  const q = Math.min(...acc.py[name]!);
  console.log(`| ${name} | ${l.toFixed(2)} | ${n.toFixed(2)} | ${q.toFixed(2)} | ${(n / l).toFixed(2)} | ${(n / q).toFixed(2)} |`);
}
console.log(`(best over rounds of the per-round medians; each time is ${forwardOnly ? 'a forward without autograd' : 'forward + input and weight gradients'})`);
