/**
 * Recurrent-cell search-step bench (docs/lm.md#search): seconds per step of the DARTS recurrent
 * search (architecture step on a validation window + the weight step with AR/TAR, clip 0.25,
 * plain SGD), first and second order (the reference's finite-difference product at w′), TS
 * (src/search/rnn) vs a PyTorch twin (bench/py/lm_search.py, its own implementation of
 * docs/lm.md), on random token ids. Each measurement runs in its own child process (TS in a child
 * `node`, PyTorch in /usr/bin/python3) so each reports its own peak RSS; the two implementations
 * alternate round by round (ts, py, ts, py, …) so a change of machine load hits both; the report
 * gives medians and the TS/PyTorch ratio.
 *
 *   node dist/bench/lm-search.js                                   # config small, 1st+2nd order, 2 rounds
 *   node dist/bench/lm-search.js --configs darts --orders first   # DARTS' size: V 10000, H 300, B 256, T 35 (slow on CPU)
 *   node dist/bench/lm-search.js --vocab 50 --hidden 8 --batch 4 --bptt 5 --steps 1 --rounds 1   # smoke test
 *
 * Configs: small = V 10000, H 64, B 32, T 35; darts = V 10000, H 300, B 256, T 35. --vocab,
 * --hidden, --batch, --bptt override the selected configs. Exits non-zero if a child fails, a
 * loss is not finite, or the two parameter counts differ.
 */
import { int, median, parseArgs, runChild as runJsonChild } from './lm-common.js';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SGD, getNumThreads, keep, libtorchVersion, manualSeed, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { RnnSearchModel } from '../src/nas/rnn/model.js';
import { RnnArchitect } from '../src/search/rnn/architect.js';
import { rnnWeightStep } from '../src/search/rnn/trainer.js';
import { Rng } from '../src/util/rng.js';

const here = fileURLToPath(import.meta.url);
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'lm_search.py');

type Order = 'first' | 'second';
interface Cfg {
  name: string;
  vocab: number;
  hidden: number;
  batch: number;
  bptt: number;
}
const CONFIGS: Record<string, Cfg> = {
  small: { name: 'small', vocab: 10000, hidden: 64, batch: 32, bptt: 35 },
  darts: { name: 'darts', vocab: 10000, hidden: 300, batch: 256, bptt: 35 },
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

// ------------------------------------------------------------------ child: the TS measurement

function child(m: Map<string, string>): void {
  const order = m.get('order') as Order;
  if (order !== 'first' && order !== 'second') throw new Error('--order must be first or second');
  const V = int(m, 'vocab', 10000);
  const H = int(m, 'hidden', 64);
  const B = int(m, 'batch', 32);
  const T = int(m, 'bptt', 35);
  const warmup = int(m, 'warmup', 1, 0);
  const steps = int(m, 'steps', 3);
  const seed = int(m, 'seed', 0, 0);
  manualSeed(seed);
  const model = new RnnSearchModel({ vocabSize: V, hiddenSize: H });
  model.train();
  const sgd = new SGD(model.weightParameters(), { lr: 20, weightDecay: 5e-7 });
  const architect = new RnnArchitect(model, { order, hvp: 'finite-difference', hvpAt: 'unrolled', lr: 3e-3, betas: [0.9, 0.999], weightDecay: 1e-3 });
  const rng = new Rng(seed + 1);
  const window = () => {
    const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
    return { input: keep(tensor(ids.slice(0, T * B), [T, B]).to('int64')), target: keep(tensor(ids.slice(B), [T, B]).to('int64')) };
  };
  const out: RunResult = { impl: 'ts', threads: getNumThreads(), params: model.weightParameters().reduce((s, p) => s + p.numel(), 0), alphas: model.numArchParameters(), step_s: [], arch_s: [], weight_s: [], losses: [], maxrss_kb: 0 };
  let hT: Tensor = keep(model.initHidden(B));
  let hV: Tensor = keep(model.initHidden(B));
  for (let i = 0; i < warmup + steps; i++) {
    const train = window();
    const val = window();
    const t0 = performance.now();
    const nextV = architect.step(train, hT, val, hV, { lr: 20, weightDecay: 5e-7, gradClip: 0.25 });
    const t1 = performance.now();
    const w = rnnWeightStep(model, sgd, train, hT, { lr: 20, gradClip: 0.25, activationReg: 0, temporalActivationReg: 1e-3 });
    const t2 = performance.now();
    if (!w.hidden) throw new Error(`non-finite loss ${w.loss} at step ${i}`);
    tidy(() => [hT, hV, train.input, train.target, val.input, val.target].forEach((t) => t.dispose()));
    hT = w.hidden;
    hV = nextV;
    const tag = i < warmup ? 'warm-up' : `step ${i - warmup + 1}/${steps}`;
    process.stderr.write(`  [ts ${order}] ${tag}: ${((t2 - t0) / 1e3).toFixed(2)} s (arch ${((t1 - t0) / 1e3).toFixed(2)} / weight ${((t2 - t1) / 1e3).toFixed(2)}), loss ${w.loss.toFixed(4)}\n`);
    if (i >= warmup) {
      out.step_s.push((t2 - t0) / 1e3);
      out.arch_s.push((t1 - t0) / 1e3);
      out.weight_s.push((t2 - t1) / 1e3);
      out.losses.push(w.loss);
    }
  }
  out.maxrss_kb = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(out) + '\n');
}

// ------------------------------------------------------------------ parent

const runChild = (cmd: string, args: string[]): RunResult => runJsonChild<RunResult>(cmd, args);

function parent(m: Map<string, string>): number {
  const configs = (m.get('configs') ?? 'small').split(',').map((s) => s.trim());
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  const orders = (m.get('orders') ?? 'first,second').split(',').map((s) => s.trim()) as Order[];
  for (const o of orders) if (o !== 'first' && o !== 'second') throw new Error(`--orders: '${o}' is not first or second`);
  const steps = int(m, 'steps', 3);
  const warmup = int(m, 'warmup', 1, 0);
  const rounds = int(m, 'rounds', 2);
  const seed = int(m, 'seed', 0, 0);
  const threads = getNumThreads();

  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()}, intra-op threads ${threads} (TS and PyTorch)`);
  console.log(`recurrent search steps: ${warmup} warm-up + ${steps} timed steps per process, ${rounds} round(s) alternating ts/py, medians over all timed steps`);
  const rows: string[][] = [];
  let failed = false;
  for (const name of configs) {
    const base = CONFIGS[name]!;
    const c: Cfg = { name, vocab: int(m, 'vocab', base.vocab), hidden: int(m, 'hidden', base.hidden), batch: int(m, 'batch', base.batch), bptt: int(m, 'bptt', base.bptt) };
    const custom = c.vocab !== base.vocab || c.hidden !== base.hidden || c.batch !== base.batch || c.bptt !== base.bptt;
    const label = `${c.name}${custom ? '*' : ''} V${c.vocab} H${c.hidden} B${c.batch} T${c.bptt}`;
    for (const order of orders) {
      const common = ['--order', order, '--vocab', String(c.vocab), '--hidden', String(c.hidden), '--batch', String(c.batch), '--bptt', String(c.bptt), '--warmup', String(warmup), '--steps', String(steps), '--seed', String(seed)];
      const all: Record<'ts' | 'py', RunResult[]> = { ts: [], py: [] };
      for (let r = 0; r < rounds && !failed; r++) {
        for (const impl of ['ts', 'py'] as const) {
          try {
            const res = impl === 'ts' ? runChild(process.execPath, [here, '--child', ...common]) : runChild('/usr/bin/python3', [pyScript, ...common, '--threads', String(threads)]);
            if (res.step_s.length !== steps || !res.losses.every(Number.isFinite)) throw new Error('incomplete result or non-finite loss');
            all[impl].push(res);
          } catch (e) {
            console.error(`FAILED ${label} ${order} ${impl}: ${(e as Error).message}`);
            failed = true;
          }
        }
      }
      if (failed) continue;
      const ts = all.ts;
      const py = all.py;
      if (ts[0]!.params !== py[0]!.params || ts[0]!.alphas !== py[0]!.alphas) {
        console.error(`FAILED ${label}: parameter counts differ (ts ${ts[0]!.params}/${ts[0]!.alphas}, py ${py[0]!.params}/${py[0]!.alphas})`);
        failed = true;
      }
      const med = (rs: RunResult[], k: 'step_s' | 'arch_s' | 'weight_s') => median(rs.flatMap((r) => r[k]));
      const rss = (rs: RunResult[]) => Math.max(...rs.map((r) => r.maxrss_kb)) / 1024;
      rows.push([
        label,
        order,
        String(ts[0]!.params),
        med(ts, 'step_s').toFixed(3),
        med(py, 'step_s').toFixed(3),
        (med(ts, 'step_s') / med(py, 'step_s')).toFixed(2),
        (med(ts, 'arch_s') / med(py, 'arch_s')).toFixed(2),
        (med(ts, 'weight_s') / med(py, 'weight_s')).toFixed(2),
        rss(ts).toFixed(0),
        rss(py).toFixed(0),
      ]);
    }
  }
  const head = ['config', 'order', 'weights', 'ts s/step', 'py s/step', 'ts/py', 'arch ts/py', 'weight ts/py', 'ts peak MiB', 'py peak MiB'];
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  return failed ? 1 : 0;
}

const args = parseArgs(process.argv.slice(2));
if (args.has('child')) child(args);
else process.exitCode = parent(args);
