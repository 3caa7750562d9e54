/**
 * The speed table of issue 10 in one command: every row is a TS measurement and its PyTorch twin,
 * run in separate child processes, INTERLEAVED (TS, Py, TS, Py, … one pair per row per repetition,
 * rows in turn), so slow drift of a noisy machine hits both sides alike. Each row reports min and
 * median times of both sides, the ratio of the minima and the median of the paired ratios
 * (TS_r / Py_r of repetition r), and the peak RSS of both (max over repetitions, per process).
 *
 * Rows:
 *  - search step (bench/search-steps.ts child vs bench/py/search_steps.py): configs (a) 8 cells C16
 *    darts B64 and (b) 5 cells C8 darts B32, first and second order; time = median s/step in the child;
 *  - Hessian: λ_max of config (b) on darts by Lanczos (AlphaHessian exact HVPs as the Hessian monitor
 *    does: graph build + products, tol 1e-6, at most 30 HVPs) vs bench/py/hessian_lanczos.py
 *    doing the same number of HVPs (the count of the TS run of the same repetition); time = build + Lanczos;
 *  - evaluation network training (bench/eval-train.ts child vs bench/py/eval_train.py): DARTS_V2,
 *    20 cells/36 channels and 8/16, batch 96, forward+backward+clip+SGD; shown as images/s, ratio of times.
 *
 *   node dist/bench/speed.js --reps 3                    # the whole table (config (a) rows take most of it)
 *   node dist/bench/speed.js --reps 3 --rows b,hessian,eval-small
 *   node dist/bench/speed.js --quick                     # smoke test at tiny sizes (2 reps, 1 step, ≤ 8 HVPs; rows b, hessian, eval-small)
 *   node dist/bench/speed.js --quick --json out.json     # also write every measurement as JSON
 *   node dist/bench/speed.js --quick --rows b --share-relu 0   # TS search rows with one ReLU per op (plain path)
 *   node dist/bench/speed.js --allocator tcmalloc        # TS children preloaded with tcmalloc (libtcmalloc-minimal4), PyTorch with glibc
 *   node dist/bench/speed.js --depthwise both            # before/after: every TS row with libtorch's depthwise backward
 *                                                        # and with the addon's (RDARTS_DEPTHWISE), against the same PyTorch runs
 *
 * Row filters (--rows, comma-separated): a, b (both orders), a-first, b-second, …, hessian,
 * eval-c10, eval-small, search, eval. Exits non-zero if a child fails or a loss is not finite.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { getNumThreads, keep, libtorchVersion, manualSeed, noGrad, randn, tensor, tidy } from '../src/torch/index.js';
import { Network } from '../src/nas/supernet.js';
import { getSpace } from '../src/nas/spaces.js';
import { AlphaHessian, dominantEigenvalues } from '../src/analysis/hessian.js';
import { Rng } from '../src/util/rng.js';

const here = fileURLToPath(import.meta.url);
const benchDir = dirname(here);
const pyDir = join(benchDir, '..', '..', 'bench', 'py');

// ------------------------------------------------------------------ pure helpers (exported for tests)

export const median = (v: readonly number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  if (n === 0) return NaN;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

/** Ratios of one row: min TS / min Py, and the median of the per-repetition ratios TS_r / Py_r. */
export function rowRatios(ts: readonly number[], py: readonly number[]): { minRatio: number; medianRatio: number } {
  const pairs = Math.min(ts.length, py.length);
  const paired = Array.from({ length: pairs }, (_, r) => ts[r]! / py[r]!);
  return { minRatio: Math.min(...ts) / Math.min(...py), medianRatio: median(paired) };
}

// ------------------------------------------------------------------ child: the TS Hessian measurement

function hessianChild(m: Map<string, string>): Promise<void> {
  const layers = Number(m.get('layers') ?? 5);
  const C = Number(m.get('channels') ?? 8);
  const B = Number(m.get('batch') ?? 32);
  const space = m.get('space') ?? 'darts';
  const seed = Number(m.get('seed') ?? 0);
  const maxIter = Number(m.get('max-iter') ?? 30);
  manualSeed(seed);
  const model = new Network({ space: getSpace(space), C, layers, numClasses: 10 });
  model.train();
  noGrad(() => tidy(() => model.archParameters().forEach((a) => a.add_(randn(a.shape as number[]).mul(0.3)))));
  const rng = new Rng(seed + 1);
  const x = keep(randn([B, 3, 32, 32]));
  const y = keep(tensor(Array.from({ length: B }, () => rng.int(10)), [B]).to('int64'));
  const t0 = performance.now();
  const h = new AlphaHessian(model, () => model.loss(x, y));
  const t1 = performance.now();
  const converge = (m.get('converge') ?? 'top-k') as 'top-k' | 'lambda-max';
  const tol = Number(m.get('tol') ?? 1e-6);
  const topK = Number(m.get('topk') ?? 1);
  return dominantEigenvalues(h, { method: 'lanczos', topK, maxIter, tol, converge, rng: new Rng(seed + 2) }).then((r) => {
    const t2 = performance.now();
    process.stderr.write(`  [ts lanczos ${space}] ${h.calls} HVPs: λ_max ${r.maxEigenvalue.toPrecision(6)}, build ${((t1 - t0) / 1e3).toFixed(2)} s + Lanczos ${((t2 - t1) / 1e3).toFixed(2)} s\n`);
    const out = { impl: 'ts', params: model.numParameters(), alphas: model.numArchParameters(), hvps: h.calls, build_s: (t1 - t0) / 1e3, lanczos_s: (t2 - t1) / 1e3, total_s: (t2 - t0) / 1e3, lambda_max: r.maxEigenvalue, maxrss_kb: process.resourceUsage().maxRSS };
    h.dispose();
    process.stdout.write(JSON.stringify(out) + '\n');
  });
}

// ------------------------------------------------------------------ parent

interface Measured {
  /** seconds (the row's time) */
  s: number;
  maxrss_kb: number;
  /** extra numbers for the JSON (λ_max, HVP count, losses) */
  extra: Record<string, unknown>;
}

interface Row {
  id: string;
  label: string;
  /** 'time' rows show seconds, 'throughput' rows show images/s (batch / s) */
  unit: { kind: 'time' } | { kind: 'throughput'; batch: number };
  ts: (prev: Measured | undefined) => [string, string[]];
  py: (ts: Measured | undefined) => [string, string[]];
  read: (json: Record<string, unknown>) => Measured;
}

/** Shared library paths of the allocators `--allocator` can preload into the TS children. */
export const ALLOCATORS: Record<string, string[]> = {
  tcmalloc: ['/usr/lib/x86_64-linux-gnu/libtcmalloc_minimal.so.4', '/usr/lib/x86_64-linux-gnu/libtcmalloc.so.4', '/usr/lib/aarch64-linux-gnu/libtcmalloc_minimal.so.4'],
  jemalloc: ['/usr/lib/x86_64-linux-gnu/libjemalloc.so.2', '/usr/lib/aarch64-linux-gnu/libjemalloc.so.2'],
};

function runChild(cmd: string, args: string[], preload: string | null = null, extraEnv: Record<string, string> = {}): Record<string, unknown> {
  const shown = Object.entries(extraEnv).map(([k, v]) => `${k}=${v} `).join('');
  process.stderr.write(`$ ${shown}${preload ? `LD_PRELOAD=${preload} ` : ''}${cmd} ${args.join(' ')}\n`);
  const env = { ...process.env, ...extraEnv, ...(preload ? { LD_PRELOAD: [preload, process.env['LD_PRELOAD']].filter(Boolean).join(':') } : {}) };
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20, env });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} exited with ${r.status ?? r.signal}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as Record<string, unknown>;
  } catch {
    throw new Error(`${cmd}: no JSON result on stdout (got '${last.slice(0, 200)}')`);
  }
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--quick' || a === '--child-hessian') m.set(a.slice(2), '1');
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      m.set(a.slice(2), v);
    }
  }
  return m;
}

function posInt(m: Map<string, string>, k: string, def: number, min = 1): number {
  const s = m.get(k);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${k} must be an integer ≥ ${min}, got '${s}'`);
  return v;
}

function buildRows(quick: boolean, steps: number, warmup: number, threads: number, tsExtra: string[] = []): Row[] {
  const rows: Row[] = [];
  const search = quick
    ? { a: { layers: 3, C: 4, batch: 4 }, b: { layers: 3, C: 4, batch: 4 } }
    : { a: { layers: 8, C: 16, batch: 64 }, b: { layers: 5, C: 8, batch: 32 } };
  const medianOf = (j: Record<string, unknown>): number => median(j['step_s'] as number[]);
  for (const cfg of ['a', 'b'] as const) {
    const c = search[cfg];
    for (const order of ['first', 'second'] as const) {
      const common = ['--order', order, '--layers', String(c.layers), '--warmup', String(warmup), '--steps', String(steps), '--space', 'darts', '--batch', String(c.batch)];
      rows.push({
        id: `${cfg}-${order}`,
        label: `search (${cfg}) ${c.layers} cells C${c.C} B${c.batch} ${order}`,
        unit: { kind: 'time' },
        ts: () => [process.execPath, [join(benchDir, 'search-steps.js'), '--child', ...common, '--channels', String(c.C), ...tsExtra]],
        py: () => ['/usr/bin/python3', [join(pyDir, 'search_steps.py'), ...common, '--C', String(c.C), '--threads', String(threads)]],
        read: (j) => ({ s: medianOf(j), maxrss_kb: j['maxrss_kb'] as number, extra: { step_s: j['step_s'], losses: j['losses'], params: j['params'] } }),
      });
    }
  }
  const hb = quick ? { layers: 3, C: 4, batch: 4 } : { layers: 5, C: 8, batch: 32 };
  const hArgs = ['--space', 'darts', '--layers', String(hb.layers), '--batch', String(hb.batch)];
  const maxIter = quick ? 8 : 30;
  rows.push({
    id: 'hessian',
    label: `Hessian λ_max (b) darts ${hb.layers} cells C${hb.C} B${hb.batch} Lanczos`,
    unit: { kind: 'time' },
    ts: () => [process.execPath, [here, '--child-hessian', ...hArgs, '--channels', String(hb.C), '--max-iter', String(maxIter)]],
    py: (ts) => ['/usr/bin/python3', [join(pyDir, 'hessian_lanczos.py'), ...hArgs, '--C', String(hb.C), '--threads', String(threads), '--hvps', String((ts?.extra['hvps'] as number | undefined) ?? 20)]],
    read: (j) => ({ s: j['total_s'] as number, maxrss_kb: j['maxrss_kb'] as number, extra: { hvps: j['hvps'], lambda_max: j['lambda_max'], build_s: j['build_s'] } }),
  });
  const evals = quick
    ? { c10: { layers: 3, C: 4, batch: 8 }, small: { layers: 3, C: 4, batch: 8 } }
    : { c10: { layers: 20, C: 36, batch: 96 }, small: { layers: 8, C: 16, batch: 96 } };
  for (const name of ['c10', 'small'] as const) {
    const c = evals[name];
    const common = ['--layers', String(c.layers), '--batch', String(c.batch), '--steps', String(steps), '--warmup', String(warmup), '--drop-path', '0.1'];
    rows.push({
      id: `eval-${name}`,
      label: `eval train ${name} ${c.layers}/${c.C} B${c.batch} (img/s)`,
      unit: { kind: 'throughput', batch: c.batch },
      ts: () => [process.execPath, [join(benchDir, 'eval-train.js'), '--child', ...common, '--channels', String(c.C)]],
      py: () => ['/usr/bin/python3', [join(pyDir, 'eval_train.py'), ...common, '--C', String(c.C), '--threads', String(threads)]],
      read: (j) => ({ s: medianOf(j), maxrss_kb: j['maxrss_kb'] as number, extra: { step_s: j['step_s'], losses: j['losses'], params: j['params'] } }),
    });
  }
  return rows;
}

/** Does row id match one of the --rows filters? */
export function rowSelected(id: string, filters: readonly string[]): boolean {
  return filters.some((f) => id === f || id.startsWith(`${f}-`) || (f === 'search' && /^[ab]-/.test(id)) || (f === 'eval' && id.startsWith('eval-')));
}

function parent(m: Map<string, string>): number {
  const quick = m.has('quick');
  const reps = posInt(m, 'reps', quick ? 2 : 3);
  const steps = posInt(m, 'steps', quick ? 1 : 3);
  const warmup = posInt(m, 'warmup', quick ? 0 : 1, 0);
  const threads = getNumThreads();
  // in --quick mode configs (a) and (b) have the same tiny size, so (a) and eval-c10 are left out by default
  const filters = (m.get('rows') ?? (quick ? 'b,hessian,eval-small' : 'a,b,hessian,eval')).split(',').map((s) => s.trim());
  const alloc = m.get('allocator') ?? 'glibc';
  let preload: string | null = null;
  if (alloc !== 'glibc') {
    const cands = ALLOCATORS[alloc];
    if (!cands) throw new Error(`--allocator must be glibc, ${Object.keys(ALLOCATORS).join(' or ')}, got '${alloc}'`);
    preload = cands.find((p) => existsSync(p)) ?? null;
    if (!preload) throw new Error(`--allocator ${alloc}: none of ${cands.join(', ')} exists (Debian: apt-get install libtcmalloc-minimal4 / libjemalloc2)`);
  }
  const tsExtra = m.has('share-relu') ? ['--share-relu', m.get('share-relu')!] : [];
  const dwOpt = m.get('depthwise');
  if (dwOpt !== undefined && !['both', 'native', 'libtorch'].includes(dwOpt)) throw new Error(`--depthwise must be both, native or libtorch, got '${dwOpt}'`);
  // TS variants: the depthwise backward each TS child uses ('' = the build's default, no variable set)
  const variants: string[] = dwOpt === undefined ? [''] : dwOpt === 'both' ? ['libtorch', 'native'] : [dwOpt];
  const variantEnv = (v: string): Record<string, string> => (v ? { RDARTS_DEPTHWISE: v } : {});
  const variantLabel = (v: string): string => (v ? ` [dw ${v}]` : '');
  const rows = buildRows(quick, steps, warmup, threads, tsExtra).filter((r) => rowSelected(r.id, filters));
  if (rows.length === 0) throw new Error(`--rows '${m.get('rows')}' selects no row`);

  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()}, ${threads} intra-op threads (TS and PyTorch)`);
  if (preload) console.log(`TS children run with LD_PRELOAD=${preload} (--allocator ${alloc}); the PyTorch twins with glibc malloc`);
  console.log(`speed table${quick ? ' (QUICK: tiny sizes, a smoke test, not a measurement)' : ''}: ${reps} repetitions interleaved TS/PyTorch per row; search/eval children ${warmup} warm-up + ${steps} timed steps (median)`);

  // per row: the TS measurements of each variant and the PyTorch ones, one of each per repetition
  const res = new Map<string, { ts: Map<string, Measured[]>; py: Measured[] }>(rows.map((r) => [r.id, { ts: new Map(variants.map((v) => [v, []])), py: [] }]));
  let failed = false;
  for (let rep = 0; rep < reps; rep++) {
    for (const row of rows) {
      const rr = res.get(row.id)!;
      const got: Array<[string, Measured]> = [];
      try {
        for (const v of variants) {
          const prev = rr.ts.get(v)!;
          const [cmd, args] = row.ts(prev[prev.length - 1]);
          const tsM = row.read(runChild(cmd, args, preload, variantEnv(v)));
          if (!Number.isFinite(tsM.s)) throw new Error('non-finite time');
          got.push([v, tsM]);
        }
        const [pc, pa] = row.py(got[got.length - 1]![1]);
        const pyM = row.read(runChild(pc, pa));
        if (!Number.isFinite(pyM.s)) throw new Error('non-finite time');
        for (const [v, tsM] of got) rr.ts.get(v)!.push(tsM);
        rr.py.push(pyM);
      } catch (e) {
        console.error(`FAILED ${row.label} rep ${rep + 1}: ${(e as Error).message}`);
        failed = true;
      }
    }
  }

  const gib = (kb: number): string => `${(kb / 2 ** 20).toFixed(2)} GiB`;
  const table: string[][] = [];
  const json: unknown[] = [];
  for (const row of rows) for (const v of variants) {
    const ts = res.get(row.id)!.ts.get(v)!;
    const py = res.get(row.id)!.py;
    const label = row.label + variantLabel(v);
    if (ts.length === 0 || py.length === 0) {
      table.push([label, '-', '-', '-', '-', '-', '-', '-', '-']);
      continue;
    }
    const tsS = ts.map((x) => x.s);
    const pyS = py.map((x) => x.s);
    const { minRatio, medianRatio } = rowRatios(tsS, pyS);
    const show = (v: number): string => (row.unit.kind === 'throughput' ? (row.unit.batch / v).toFixed(1) : v.toFixed(3));
    const rssTs = Math.max(...ts.map((x) => x.maxrss_kb));
    const rssPy = Math.max(...py.map((x) => x.maxrss_kb));
    // for throughput rows the "min" column is the best (highest) images/s
    table.push([label, show(Math.min(...tsS)), show(median(tsS)), show(Math.min(...pyS)), show(median(pyS)), minRatio.toFixed(2), medianRatio.toFixed(2), `${gib(rssTs)} / ${gib(rssPy)}`, (rssTs / rssPy).toFixed(2)]);
    json.push({ id: row.id, label, depthwise: v || 'default', unit: row.unit, ts, py, minRatio, medianRatio, maxrssTsKb: rssTs, maxrssPyKb: rssPy });
  }
  const head = ['row', 'TS best', 'TS median', 'Py best', 'Py median', 'time ratio (min)', 'time ratio (median of pairs)', 'peak RSS TS / Py', 'RSS ratio'];
  const widths = head.map((h, i) => Math.max(h.length, ...table.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((s, i) => s.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log('');
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of table) console.log(line(r));
  console.log(`(times in s, eval rows in images/s; time ratio = TS / PyTorch, < 1 means TS faster; ${reps} interleaved repetitions; peak RSS = max over repetitions of each process's maxRSS)`);
  const out = m.get('json');
  if (out) writeFileSync(out, JSON.stringify({ command: process.argv.slice(1), quick, reps, steps, warmup, threads, rows: json }, null, 2) + '\n');
  if (failed) console.error('speed bench: FAILED');
  return failed ? 1 : 0;
}

const isMain = process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1];
if (isMain) {
  try {
    const m = parseArgs(process.argv.slice(2));
    if (m.has('child-hessian')) {
      hessianChild(m).catch((e: unknown) => {
        console.error(`speed bench (hessian child): ${(e as Error).stack ?? e}`);
        process.exitCode = 1;
      });
    } else process.exitCode = parent(m);
  } catch (e) {
    console.error(`speed bench: ${(e as Error).stack ?? e}`);
    process.exitCode = 1;
  }
}
