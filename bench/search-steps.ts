/**
 * Search-step bench: seconds per DARTS search step (architecture step on a val batch + SGD weight
 * step with clip 5, docs/search.md), first and second order (finite-difference HVP), TS supernet
 * vs a PyTorch twin (bench/py/search_steps.py, own implementation of docs/spaces.md and docs/search.md), random 3×32×32
 * inputs and 10 classes. Every measurement runs in its own child process, one at a time (TS in a
 * child `node`, PyTorch in `/usr/bin/python3`), so each reports its own peak RSS (maxRSS / ru_maxrss).
 *
 *   node dist/bench/search-steps.js                         # config (b), 1st+2nd order, N=3
 *   node dist/bench/search-steps.js --configs a,b           # add config (a) (~40 min, 19 GB peak)
 *   node dist/bench/search-steps.js --configs b --orders first --steps 5 --impls ts,py
 *   node dist/bench/search-steps.js --layers 3 --channels 4 --batch 4 --steps 1   # tiny smoke test
 *   node dist/bench/search-steps.js --impls ts --share-relu 0   # TS's plain MixedOp (one ReLU per op, none term added), for A/B
 *   node dist/bench/search-steps.js --impls ts --fuse-sum 0     # a node's sum as a mul and an add per term, for A/B
 *
 * Configs: (a) 8 cells, C16, darts space, batch 64; (b) 5 cells, C8, darts space, batch 32.
 * --layers/--channels/--batch/--space override every selected config (layers ≥ 3, so that both
 * cell types are used). Exits non-zero if a child fails, a loss is not finite, or the two
 * parameter counts differ.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { writeFileSync } from 'node:fs';
import { F, SGD, clipGradNorm, getNumThreads, grad, libtorchVersion, manualSeed, profileStart, profileStop, randn, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { Network, mixedOpOptions } from '../src/nas/supernet.js';
import { getSpace } from '../src/nas/spaces.js';
import { Architect } from '../src/search/architect.js';
import { Rng } from '../src/util/rng.js';

const here = fileURLToPath(import.meta.url);
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'search_steps.py');

type Order = 'first' | 'second';
interface Cfg {
  name: string;
  layers: number;
  C: number;
  space: string;
  batch: number;
}
const CONFIGS: Record<string, Cfg> = {
  a: { name: 'a', layers: 8, C: 16, space: 'darts', batch: 64 },
  b: { name: 'b', layers: 5, C: 8, space: 'darts', batch: 32 },
};

interface RunResult {
  impl: string;
  threads: number;
  params: number;
  alphas: number;
  step_s: number[];
  arch_s: number[];
  weight_s: number[];
  losses: number[];
  maxrss_kb: number;
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    const eq = a.indexOf('=');
    if (eq > 0) m.set(a.slice(2, eq), a.slice(eq + 1));
    else if (a === '--child') m.set('child', '1');
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

const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

// ------------------------------------------------------------------ child: the TS measurement

function child(m: Map<string, string>): void {
  const order = m.get('order') as Order;
  if (order !== 'first' && order !== 'second') throw new Error(`--order must be first or second`);
  const layers = int(m, 'layers', 5);
  const C = int(m, 'channels', 8);
  const B = int(m, 'batch', 32);
  const warmup = int(m, 'warmup', 1, 0);
  const steps = int(m, 'steps', 3);
  const seed = int(m, 'seed', 0, 0);
  // --share-relu 0: the plain MixedOp path (every conv op applies its own ReLU, the none term is
  // added; default 1 = shared ReLU, no none term: mixedOpOptions)
  mixedOpOptions.shareRelu = m.get('share-relu') !== '0';
  mixedOpOptions.skipZero = m.get('share-relu') !== '0';
  // --fuse-sum 0: a node's sum as a mul and an add per term (the reference's structure), not one F.weightedSum
  mixedOpOptions.fuseSum = m.get('fuse-sum') !== '0';
  manualSeed(seed);
  const model = new Network({ space: getSpace(m.get('space') ?? 'darts'), C, layers, numClasses: 10 });
  model.train();
  const sgd = new SGD(model.weightParameters(), { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const architect = new Architect(model, { order, hvp: 'finite-difference', lr: 3e-4, betas: [0.5, 0.999], weightDecay: 1e-3 });
  const rng = new Rng(seed + 1);
  const labels = (): Tensor => tensor(Array.from({ length: B }, () => rng.int(10)), [B]).to('int64');
  const out: RunResult = { impl: 'ts', threads: getNumThreads(), params: model.numParameters(), alphas: model.numArchParameters(), step_s: [], arch_s: [], weight_s: [], losses: [], maxrss_kb: 0 };
  // --profile FILE: libtorch's operator profiler over the timed steps, one row per op (bench/profile.ts)
  const profileFile = m.get('profile');
  for (let i = 0; i < warmup + steps; i++) {
    if (profileFile !== undefined && i === warmup) profileStart();
    tidy(() => {
      const train = { x: randn([B, 3, 32, 32]), y: labels() };
      const val = { x: randn([B, 3, 32, 32]), y: labels() };
      const t0 = performance.now();
      architect.step(train, val, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4, momentumBuffers: sgd.momentumBuffers });
      const t1 = performance.now();
      const ws = model.weightParameters();
      const lossT = F.crossEntropy(model.forward(train.x), train.y);
      const loss = lossT.item();
      if (!Number.isFinite(loss)) throw new Error(`non-finite loss ${loss} at step ${i}`);
      const gs = grad(lossT, ws) as Tensor[];
      ws.forEach((w, k) => (w.grad = gs[k]!));
      clipGradNorm(ws, 5);
      sgd.step();
      sgd.zeroGrad();
      const t2 = performance.now();
      const tag = i < warmup ? 'warm-up' : `step ${i - warmup + 1}/${steps}`;
      process.stderr.write(`  [ts ${order}] ${tag}: ${((t2 - t0) / 1e3).toFixed(2)} s (arch ${((t1 - t0) / 1e3).toFixed(2)} / weight ${((t2 - t1) / 1e3).toFixed(2)}), loss ${loss.toFixed(4)}\n`);
      if (i >= warmup) {
        out.step_s.push((t2 - t0) / 1e3);
        out.arch_s.push((t1 - t0) / 1e3);
        out.weight_s.push((t2 - t1) / 1e3);
        out.losses.push(loss);
      }
    });
  }
  if (profileFile !== undefined) writeFileSync(profileFile, JSON.stringify(profileStop()) + '\n');
  out.maxrss_kb = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ------------------------------------------------------------------ parent

function runChild(cmd: string, args: string[]): RunResult {
  process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} exited with ${r.status ?? r.signal}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as RunResult;
  } catch {
    throw new Error(`${cmd}: no JSON result on stdout (got '${last.slice(0, 200)}')`);
  }
}

function parent(m: Map<string, string>): number {
  const configs = (m.get('configs') ?? 'b').split(',').map((s) => s.trim());
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}' (known: a, b)`);
  const orders = (m.get('orders') ?? 'first,second').split(',').map((s) => s.trim()) as Order[];
  for (const o of orders) if (o !== 'first' && o !== 'second') throw new Error(`--orders: '${o}' is not first or second`);
  const impls = (m.get('impls') ?? 'ts,py').split(',').map((s) => s.trim());
  for (const i of impls) if (i !== 'ts' && i !== 'py') throw new Error(`--impls: '${i}' is not ts or py`);
  const steps = int(m, 'steps', 3);
  const warmup = int(m, 'warmup', 1, 0);
  const seed = int(m, 'seed', 0, 0);
  const threads = getNumThreads();

  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()} intra-op threads ${threads} (TS and PyTorch)`);
  console.log(`search steps: configs ${configs.join(',')}, orders ${orders.join(',')}, ${warmup} warm-up + ${steps} timed steps, median; each run in its own process, sequentially`);

  const rows: string[][] = [];
  let failed = false;
  for (const name of configs) {
    const base = CONFIGS[name]!;
    const c: Cfg = {
      name: base.name,
      layers: int(m, 'layers', base.layers, 3),
      C: int(m, 'channels', base.C, 2),
      space: m.get('space') ?? base.space,
      batch: int(m, 'batch', base.batch),
    };
    const custom = c.layers !== base.layers || c.C !== base.C || c.space !== base.space || c.batch !== base.batch;
    const label = `(${c.name}${custom ? '*' : ''}) ${c.layers} cells C${c.C} ${c.space} B${c.batch}`;
    for (const order of orders) {
      const common = ['--order', order, '--layers', String(c.layers), '--warmup', String(warmup), '--steps', String(steps), '--space', c.space, '--batch', String(c.batch), '--seed', String(seed)];
      const res: Partial<Record<'ts' | 'py', RunResult>> = {};
      for (const impl of impls as Array<'ts' | 'py'>) {
        try {
          res[impl] =
            impl === 'ts'
              ? runChild(process.execPath, [here, '--child', ...common, '--channels', String(c.C), ...(m.has('share-relu') ? ['--share-relu', m.get('share-relu')!] : []), ...(m.has('fuse-sum') ? ['--fuse-sum', m.get('fuse-sum')!] : [])])
              : runChild('/usr/bin/python3', [pyScript, ...common, '--C', String(c.C), '--threads', String(threads)]);
          const r = res[impl]!;
          if (r.step_s.length !== steps || !r.losses.every(Number.isFinite)) throw new Error(`${impl}: incomplete result or non-finite loss`);
        } catch (e) {
          console.error(`FAILED ${label} ${order} ${impl}: ${(e as Error).message}`);
          failed = true;
        }
      }
      const { ts, py } = res;
      if (ts && py && (ts.params !== py.params || ts.alphas !== py.alphas)) {
        console.error(`FAILED ${label}: parameter counts differ: TS ${ts.params} w / ${ts.alphas} α, PyTorch ${py.params} w / ${py.alphas} α`);
        failed = true;
      }
      const f = (r: RunResult | undefined, k: 'step_s' | 'arch_s' | 'weight_s'): string => (r ? median(r[k]).toFixed(2) : '-');
      const rss = (r: RunResult | undefined): string => (r ? `${(r.maxrss_kb / 2 ** 20).toFixed(2)} GiB` : '-');
      const params = ts && py ? (ts.params === py.params ? `${ts.params}` : `${ts.params}≠${py.params}`) : String((ts ?? py)?.params ?? '-');
      for (const [impl, r] of [['ts', ts], ['py', py]] as const) {
        if (r) console.log(`  ${label} ${order} ${impl}: steps ${r.step_s.map((s) => s.toFixed(2)).join(', ')} s; losses ${r.losses.map((s) => s.toFixed(3)).join(', ')}`);
      }
      rows.push([
        label,
        order,
        f(ts, 'step_s'),
        f(py, 'step_s'),
        ts && py ? (median(ts.step_s) / median(py.step_s)).toFixed(2) : '-',
        ts ? `${f(ts, 'arch_s')} / ${f(ts, 'weight_s')}` : '-',
        py ? `${f(py, 'arch_s')} / ${f(py, 'weight_s')}` : '-',
        rss(ts),
        rss(py),
        params,
      ]);
    }
  }
  const head = ['config', 'order', 'TS s/step', 'PyTorch s/step', 'TS/PyTorch', 'TS arch/weight s', 'Py arch/weight s', 'TS peak RSS', 'Py peak RSS', 'params (w)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((s, i) => s.padEnd(widths[i]!)).join(' | ') + ' |';
  console.log('');
  console.log(line(head));
  console.log('|' + widths.map((w) => '-'.repeat(w + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  console.log(`(medians over ${steps} steps after ${warmup} warm-up; * = overridden config; peak RSS per process)`);
  if (failed) console.error('search-steps bench: FAILED');
  return failed ? 1 : 0;
}

try {
  const m = parseArgs(process.argv.slice(2));
  if (m.has('child')) child(m);
  else process.exitCode = parent(m);
} catch (e) {
  console.error(`search-steps bench: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
}
