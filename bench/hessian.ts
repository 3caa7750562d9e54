/**
 * Hessian bench (docs/hessian.md): λ_max of ∇²_α L_val by Lanczos (AlphaHessian exact HVPs, as the
 * Hessian monitor does) vs the full Hessian (one HVP per unit vector, symmetric eigensolver), on
 * one retained graph. Supernet 5 cells, C8, batch 32, train-mode BN, α perturbed by 0.3·randn
 * (seeded) so the Hessian is not degenerate; spaces s2 (56 α) and darts (224 α).
 * Optionally (default: s2) the PyTorch reference-style full Hessian (bench/py/hessian.py, row by
 * row, on the same weights, α and batch, passed in a safetensors file) for a time ratio and a
 * cross-implementation check of λ_max.
 *
 *   node dist/bench/hessian.js                                  # s2 and darts, PyTorch for s2
 *   node dist/bench/hessian.js --spaces darts --py all           # + PyTorch full Hessian for darts (~17 min)
 *   node dist/bench/hessian.js --tols 1e-6,1e-4 --max-iter 30    # Lanczos settings (defaults)
 *   node dist/bench/hessian.js --layers 3 --channels 4 --batch 4  # tiny smoke test
 *
 * Checks (exit code 1 if any fails): |λ_lanczos − λ_full| / |λ_full| ≤ 1e-4 for every tolerance;
 * PyTorch λ_max within 1e-3 (relative) of the TS full-Hessian λ_max; equal parameter counts.
 */
import { spawnSync } from 'node:child_process';
import { cpus, tmpdir, totalmem } from 'node:os';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { getNumThreads, keep, libtorchVersion, manualSeed, noGrad, randn, serializeSafetensors, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { Network } from '../src/nas/supernet.js';
import { getSpace } from '../src/nas/spaces.js';
import { AlphaHessian, dominantEigenvalues } from '../src/analysis/hessian.js';
import { Rng } from '../src/util/rng.js';

const here = fileURLToPath(import.meta.url);
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'hessian.py');
const REL_TOL = 1e-4;
const XIMPL_TOL = 1e-3;

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      m.set(a.slice(2), v);
    }
  }
  return m;
}

function int(m: Map<string, string>, k: string, def: number, min = 1): number {
  const s = m.get(k);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${k} must be an integer ≥ ${min}, got '${s}'`);
  return v;
}

interface PyResult {
  params: number;
  alphas: number;
  loss: number;
  build_s: number;
  rows_s: number;
  total_s: number;
  lambda_max: number;
  lambda_min: number;
  asymmetry: number;
  maxrss_kb: number;
}

const rel = (a: number, b: number): number => Math.abs(a - b) / Math.max(Math.abs(b), 1e-30);
const sec = (ms: number): string => (ms / 1e3).toFixed(2);

async function main(): Promise<number> {
  const m = parseArgs(process.argv.slice(2));
  const spaces = (m.get('spaces') ?? 's2,darts').split(',').map((s) => s.trim());
  const layers = int(m, 'layers', 5, 3);
  const C = int(m, 'channels', 8, 2);
  const B = int(m, 'batch', 32);
  const seed = int(m, 'seed', 0, 0);
  const perturb = Number(m.get('perturb') ?? 0.3);
  const maxIter = int(m, 'max-iter', 30);
  const topK = int(m, 'top-k', 1);
  const tols = (m.get('tols') ?? '1e-6,1e-4').split(',').map(Number);
  if (tols.some((t) => !(t > 0))) throw new Error(`--tols: positive numbers, got '${m.get('tols')}'`);
  const pyWhich = m.get('py') ?? 's2';
  if (!['none', 's2', 'all'].includes(pyWhich)) throw new Error(`--py must be none, s2 or all`);
  const threads = getNumThreads();

  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()} intra-op threads ${threads} (TS and PyTorch)`);
  console.log(`hessian: ${layers} cells C${C} B${B}, train-mode BN, α += ${perturb}·randn (seed ${seed}); Lanczos topK ${topK}, maxIter ${maxIter}, tols ${tols.join(', ')}; PyTorch reference: ${pyWhich}`);

  let failed = false;
  const fail = (msg: string): void => {
    console.error(`FAILED ${msg}`);
    failed = true;
  };
  const summary: string[][] = [];
  for (const spaceName of spaces) {
    manualSeed(seed);
    const model = new Network({ space: getSpace(spaceName), C, layers, numClasses: 10 });
    model.train();
    noGrad(() => tidy(() => model.archParameters().forEach((a) => a.add_(randn(a.shape as number[]).mul(perturb)))));
    const rng = new Rng(seed + 1);
    const x = keep(randn([B, 3, 32, 32]));
    const y = keep(tensor(Array.from({ length: B }, () => rng.int(10)), [B]).to('int64'));
    const n = model.numArchParameters();
    const tsLoss = noGrad(() => tidy(() => model.loss(x, y).item()));
    console.log(`\n[${spaceName}] ${n} α, ${model.numParameters()} weights, loss ${tsLoss.toFixed(6)}`);

    const tb = performance.now();
    const h = new AlphaHessian(model, () => model.loss(x, y));
    const buildMs = performance.now() - tb;
    console.log(`  graph build (forward + ∇α L with create_graph): ${sec(buildMs)} s`);
    // per-product times (to spot drift over many products on one retained graph)
    const hvpMs: number[] = [];
    const hvp0 = h.hvp.bind(h);
    h.hvp = (v: Float64Array): Float64Array => {
      const t = performance.now();
      const out = hvp0(v);
      hvpMs.push(performance.now() - t);
      return out;
    };
    // one untimed product first, so neither method pays the first-use allocations of the graph
    const tw = performance.now();
    h.hvp(Float64Array.from({ length: n }, () => rng.normal()));
    console.log(`  warm-up HVP (not counted): ${sec(performance.now() - tw)} s`);

    const lz: Array<{ tol: number; lambda: number; calls: number; ms: number; converged: boolean }> = [];
    for (const tol of tols) {
      const c0 = h.calls;
      const t = performance.now();
      const r = await dominantEigenvalues(h, { method: 'lanczos', topK, maxIter, tol, rng: new Rng(seed + 2) });
      const ms = performance.now() - t;
      lz.push({ tol, lambda: r.maxEigenvalue, calls: h.calls - c0, ms, converged: r.converged });
      console.log(`  Lanczos tol ${tol}: λ_max ${r.maxEigenvalue.toPrecision(8)} (λ_min ritz ${r.minEigenvalue?.toPrecision(6)}), ${h.calls - c0} HVPs, ${sec(ms)} s (median ${sec([...hvpMs.slice(-(h.calls - c0))].sort((p, q) => p - q)[Math.floor((h.calls - c0) / 2)] ?? NaN)} s/HVP), converged ${r.converged}`);
    }
    const c1 = h.calls;
    const tf = performance.now();
    const full = await dominantEigenvalues(h, { method: 'full', topK: 1 });
    const fullMs = performance.now() - tf;
    const fullCalls = h.calls - c1;
    console.log(`  full Hessian: λ_max ${full.maxEigenvalue.toPrecision(8)}, λ_min ${full.minEigenvalue?.toPrecision(8)}, ${fullCalls} HVPs, ${sec(fullMs)} s (${(fullMs / fullCalls / 1e3).toFixed(3)} s/HVP)`);
    h.dispose();
    const fullHvp = hvpMs.slice(-fullCalls);
    const med = (v: number[]): number => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)] ?? NaN;
    console.log(
      `  HVP time in the full Hessian: median ${sec(med(fullHvp))} s, min ${sec(Math.min(...fullHvp))} s, max ${sec(Math.max(...fullHvp))} s; ` +
        `first 10 median ${sec(med(fullHvp.slice(0, 10)))} s, last 10 median ${sec(med(fullHvp.slice(-10)))} s`,
    );

    for (const l of lz) {
      const d = rel(l.lambda, full.maxEigenvalue);
      const speed = fullMs / l.ms;
      const speedBuild = (fullMs + buildMs) / (l.ms + buildMs);
      console.log(`  tol ${l.tol}: rel diff ${d.toExponential(2)} (≤ ${REL_TOL}: ${d <= REL_TOL ? 'ok' : 'NO'}), speed-up ${speed.toFixed(1)}× (${speedBuild.toFixed(1)}× with the graph build)`);
      if (!(d <= REL_TOL)) fail(`[${spaceName}] Lanczos (tol ${l.tol}) λ_max ${l.lambda} vs full ${full.maxEigenvalue}: relative difference ${d.toExponential(2)} > ${REL_TOL}`);
      summary.push([spaceName, String(n), String(l.tol), l.lambda.toPrecision(8), full.maxEigenvalue.toPrecision(8), d.toExponential(2), `${l.calls} / ${fullCalls}`, `${sec(l.ms)} / ${sec(fullMs)}`, `${speed.toFixed(1)}×`, sec(buildMs)]);
    }

    if (pyWhich === 'all' || (pyWhich === 's2' && spaceName === 's2')) {
      const dir = mkdtempSync(join(tmpdir(), 'rdarts-hessian-bench-'));
      try {
        const file = join(dir, 'state.safetensors');
        const sd = new Map<string, Tensor>(model.stateDict());
        sd.set('alpha_normal', model.alphaNormal);
        sd.set('alpha_reduce', model.alphaReduce);
        sd.set('x', x);
        sd.set('y', y);
        writeFileSync(file, noGrad(() => serializeSafetensors(sd)));
        const args = [pyScript, '--space', spaceName, '--layers', String(layers), '--C', String(C), '--batch', String(B), '--state', file, '--threads', String(threads)];
        process.stderr.write(`$ /usr/bin/python3 ${args.join(' ')}\n`);
        const r = spawnSync('/usr/bin/python3', args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
        if (r.error || r.status !== 0) {
          fail(`[${spaceName}] PyTorch reference exited with ${r.error?.message ?? r.status ?? r.signal}`);
        } else {
          const py = JSON.parse(r.stdout.trim().split('\n').pop()!) as PyResult;
          const d = rel(py.lambda_max, full.maxEigenvalue);
          console.log(
            `  PyTorch reference-style full Hessian (${py.alphas} rows): λ_max ${py.lambda_max.toPrecision(8)} (vs TS full: rel ${d.toExponential(2)}), loss ${py.loss.toFixed(6)}, ` +
              `build ${py.build_s.toFixed(2)} s + rows ${py.rows_s.toFixed(2)} s = ${py.total_s.toFixed(2)} s, peak RSS ${(py.maxrss_kb / 2 ** 20).toFixed(2)} GiB`,
          );
          console.log(
            `  time ratio PyTorch rows / TS full: ${((py.rows_s * 1e3) / fullMs).toFixed(2)}× (with builds ${((py.total_s * 1e3) / (fullMs + buildMs)).toFixed(2)}×); ` +
              `PyTorch full / TS Lanczos (tol ${lz[0]?.tol}, with builds): ${((py.total_s * 1e3) / ((lz[0]?.ms ?? NaN) + buildMs)).toFixed(1)}×`,
          );
          if (py.params !== model.numParameters() || py.alphas !== n) fail(`[${spaceName}] parameter counts differ: TS ${model.numParameters()} / ${n} α, PyTorch ${py.params} / ${py.alphas} α`);
          if (!(d <= XIMPL_TOL)) fail(`[${spaceName}] PyTorch λ_max ${py.lambda_max} vs TS ${full.maxEigenvalue}: relative difference ${d.toExponential(2)} > ${XIMPL_TOL}`);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    x.dispose();
    y.dispose();
    model.dispose();
  }

  const head = ['space', 'α', 'Lanczos tol', 'λ_max Lanczos', 'λ_max full', 'rel diff', 'HVPs L / full', 's L / full', 'speed-up', 'build s'];
  const widths = head.map((hd, i) => Math.max(hd.length, ...summary.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((s, i) => s.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log('');
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of summary) console.log(line(r));
  console.log(`(speed-up = full-Hessian time / Lanczos time on the same retained graph, build excluded; process peak RSS ${(process.resourceUsage().maxRSS / 2 ** 20).toFixed(2)} GiB)`);
  if (failed) console.error('hessian bench: FAILED');
  return failed ? 1 : 0;
}

main().then(
  (code) => (process.exitCode = code),
  (e: unknown) => {
    console.error(`hessian bench: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  },
);
