/**
 * Evaluation-network training bench: images/s of forward (with the auxiliary head) + backward +
 * clip 5 + SGD (momentum 0.9, wd 3e-4) for DARTS_V2, drop path at a fixed probability (0.1 by
 * default), random 3×32×32 inputs and 10 classes — TS (EvalNetwork) vs the PyTorch twin
 * bench/py/eval_train.py (NetworkCIFAR of test/eval/py/darts_eval.py), each in its own child
 * process, one at a time, so each reports its own peak RSS. Target: TS/PyTorch time ratio ≤ 1.0
 * and RSS no higher.
 *
 *   node dist/bench/eval-train.js                                   # configs c10 (20/36, B96) and small (8/16, B96)
 *   node dist/bench/eval-train.js --configs small --steps 5
 *   node dist/bench/eval-train.js --layers 3 --channels 4 --batch 8 --steps 1   # tiny smoke test
 *
 * Exits non-zero if a child fails, a loss is not finite, or the parameter counts differ.
 */
import { spawnSync } from 'node:child_process';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { F, SGD, clipGradNorm, getNumThreads, grad, libtorchVersion, manualSeed, randn, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { EvalNetwork, getPublishedGenotype } from '../src/nas/index.js';
import { Rng } from '../src/util/rng.js';

const here = fileURLToPath(import.meta.url);
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'eval_train.py');

const CONFIGS: Record<string, { layers: number; C: number; batch: number }> = {
  c10: { layers: 20, C: 36, batch: 96 },
  small: { layers: 8, C: 16, batch: 96 },
};

interface RunResult {
  impl: string;
  threads: number;
  params: number;
  params_aux: number;
  step_s: number[];
  losses: number[];
  maxrss_kb: number;
}

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    if (a === '--child') m.set('child', '1');
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      m.set(a.slice(2), v);
    }
  }
  return m;
}

function num(m: Map<string, string>, k: string, def: number, min = 0): number {
  const s = m.get(k);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isFinite(v) || v < min) throw new Error(`--${k} must be a number ≥ ${min}, got '${s}'`);
  return v;
}

const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

function child(m: Map<string, string>): void {
  const layers = num(m, 'layers', 20, 3);
  const C = num(m, 'channels', 36, 2);
  const B = num(m, 'batch', 96, 1);
  const steps = num(m, 'steps', 3, 1);
  const warmup = num(m, 'warmup', 1);
  const seed = num(m, 'seed', 0);
  manualSeed(seed);
  const model = new EvalNetwork({ genotype: getPublishedGenotype('DARTS_V2'), C, layers, numClasses: 10, auxiliary: true });
  model.train();
  model.dropPathProb = num(m, 'drop-path', 0.1);
  const params = model.parameters();
  const sgd = new SGD(params, { lr: 0.025, momentum: 0.9, weightDecay: 3e-4 });
  const rng = new Rng(seed + 1);
  const out: RunResult = { impl: 'ts', threads: getNumThreads(), params: model.numParametersWithoutAuxiliary(), params_aux: model.numParameters(), step_s: [], losses: [], maxrss_kb: 0 };
  for (let i = 0; i < warmup + steps; i++) {
    tidy(() => {
      const x = randn([B, 3, 32, 32]);
      const y = tensor(Array.from({ length: B }, () => rng.int(10)), [B]).to('int64');
      const t0 = performance.now();
      const o = model.forward(x);
      const lossT = F.crossEntropy(o.logits, y).add(F.crossEntropy(o.auxLogits!, y).mul(0.4));
      const gs = grad(lossT, params);
      params.forEach((p, k) => (p.grad = gs[k] as Tensor));
      clipGradNorm(params, 5);
      sgd.step();
      sgd.zeroGrad();
      const loss = lossT.item();
      const dt = (performance.now() - t0) / 1e3;
      if (!Number.isFinite(loss)) throw new Error(`non-finite loss ${loss} at step ${i}`);
      process.stderr.write(`  [ts] ${i < warmup ? 'warm-up' : `step ${i - warmup + 1}/${steps}`}: ${dt.toFixed(2)} s, loss ${loss.toFixed(4)}\n`);
      if (i >= warmup) {
        out.step_s.push(dt);
        out.losses.push(loss);
      }
    });
  }
  out.maxrss_kb = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(out) + '\n');
}

function runChild(cmd: string, args: string[]): RunResult {
  process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status ?? r.signal}`);
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '') as RunResult;
}

function parent(m: Map<string, string>): number {
  const configs = (m.get('configs') ?? 'c10,small').split(',').map((s) => s.trim());
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  const steps = num(m, 'steps', 3, 1);
  const warmup = num(m, 'warmup', 1);
  const dp = num(m, 'drop-path', 0.1);
  const threads = getNumThreads();
  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()}, ${threads} intra-op threads (TS and PyTorch)`);
  console.log(`evaluation-network training steps (DARTS_V2, auxiliary head, drop path ${dp}): ${warmup} warm-up + ${steps} timed, median; each run in its own process`);
  const rows: string[][] = [];
  let failed = false;
  for (const name of configs) {
    const b = CONFIGS[name]!;
    const c = { layers: num(m, 'layers', b.layers, 3), C: num(m, 'channels', b.C, 2), batch: num(m, 'batch', b.batch, 1) };
    const label = `${name}${c.layers !== b.layers || c.C !== b.C || c.batch !== b.batch ? '*' : ''} ${c.layers}/${c.C} B${c.batch}`;
    const common = ['--layers', String(c.layers), '--batch', String(c.batch), '--steps', String(steps), '--warmup', String(warmup), '--drop-path', String(dp)];
    let ts: RunResult | null = null;
    let py: RunResult | null = null;
    try {
      ts = runChild(process.execPath, [here, '--child', ...common, '--channels', String(c.C)]);
      py = runChild('/usr/bin/python3', [pyScript, ...common, '--C', String(c.C), '--threads', String(threads)]);
    } catch (e) {
      console.error(`FAILED ${label}: ${(e as Error).message}`);
      failed = true;
    }
    if (ts && py && (ts.params !== py.params || ts.params_aux !== py.params_aux)) {
      console.error(`FAILED ${label}: parameter counts differ (TS ${ts.params}/${ts.params_aux}, PyTorch ${py.params}/${py.params_aux})`);
      failed = true;
    }
    const ips = (r: RunResult | null): string => (r ? (c.batch / median(r.step_s)).toFixed(1) : '-');
    const rss = (r: RunResult | null): string => (r ? `${(r.maxrss_kb / 2 ** 20).toFixed(2)} GiB` : '-');
    rows.push([label, String(ts?.params ?? py?.params ?? '-'), ips(ts), ips(py), ts && py ? (median(ts.step_s) / median(py.step_s)).toFixed(2) : '-', rss(ts), rss(py)]);
  }
  const head = ['config', 'params', 'TS img/s', 'PyTorch img/s', 'TS/PyTorch time', 'TS peak RSS', 'Py peak RSS'];
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (r: string[]): string => '| ' + r.map((s, i) => s.padEnd(w[i]!)).join(' | ') + ' |';
  console.log('');
  console.log(line(head));
  console.log('|' + w.map((x) => '-'.repeat(x + 2)).join('|') + '|');
  for (const r of rows) console.log(line(r));
  console.log('(target: TS/PyTorch time ≤ 1.0 and TS peak RSS ≤ PyTorch peak RSS; * = overridden size)');
  return failed ? 1 : 0;
}

try {
  const m = parseArgs(process.argv.slice(2));
  if (m.has('child')) child(m);
  else process.exitCode = parent(m);
} catch (e) {
  console.error(`eval-train bench: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
}
