/**
 * Evaluation-model training throughput (docs/lm.md#training-a-recurrent-cell): tokens per second of
 * the DARTS_V2 evaluation model's training step (forward, NLL + TAR 1e-3, backward, clip 0.25, SGD
 * lr 20 · seq_len/bptt, weight decay 8e-7, the eval dropouts incl. embedding dropout 0.1), the same
 * step as RnnEvalTrainer (src/search/rnn/eval-trainer.ts), TS vs a PyTorch twin
 * (bench/py/lm_train.py, written from docs/lm.md), on random token ids with a fixed BPTT length.
 * Each measurement is its own child process (own peak RSS); TS and PyTorch alternate round by round.
 *
 *   node dist/bench/lm-train.js                               # small: V 10000, H 256, B 64, T 35
 *   node dist/bench/lm-train.js --configs darts --steps 3     # DARTS' size: V 10000, H 850, B 64, T 35
 *   node dist/bench/lm-train.js --vocab 50 --hidden 8 --batch 4 --bptt 5 --steps 2 --rounds 1   # smoke test
 */
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { SGD, clipGradNorm, getNumThreads, grad, keep, libtorchVersion, manualSeed, tensor, tidy, type Tensor } from '../src/torch/index.js';
import { RnnEvalModel, RNN_DARTS_V2, activationPenalty } from '../src/nas/rnn/index.js';
import { Rng } from '../src/util/rng.js';
import { int, median, parseArgs, runChild } from './lm-common.js';

const here = fileURLToPath(import.meta.url);
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'lm_train.py');

interface Cfg { vocab: number; hidden: number; batch: number; bptt: number }
const CONFIGS: Record<string, Cfg> = {
  small: { vocab: 10000, hidden: 256, batch: 64, bptt: 35 },
  darts: { vocab: 10000, hidden: 850, batch: 64, bptt: 35 },
};
interface RunResult { impl: string; threads: number; params: number; step_s: number[]; losses: number[]; maxrss_kb: number }

function child(m: Map<string, string>): void {
  const V = int(m, 'vocab', 10000), H = int(m, 'hidden', 256), B = int(m, 'batch', 64), T = int(m, 'bptt', 35);
  const warmup = int(m, 'warmup', 1, 0), steps = int(m, 'steps', 5), seed = int(m, 'seed', 0, 0);
  manualSeed(seed);
  const model = new RnnEvalModel({ vocabSize: V, hiddenSize: H, genotype: RNN_DARTS_V2 });
  model.train();
  const ps = model.parameters();
  const sgd = new SGD(ps, { lr: 20, weightDecay: 8e-7 });
  const rng = new Rng(seed + 1);
  const out: RunResult = { impl: 'ts', threads: getNumThreads(), params: model.numParameters(), step_s: [], losses: [], maxrss_kb: 0 };
  let h: Tensor = keep(model.initHidden(B));
  for (let i = 0; i < warmup + steps; i++) {
    const ids = Int32Array.from({ length: (T + 1) * B }, () => rng.int(V));
    const t0 = performance.now();
    const r = tidy(() => {
      const input = tensor(ids.slice(0, T * B), [T, B]).to('int64');
      const target = tensor(ids.slice(B), [T, B]).to('int64');
      const o = model.loss(input, target, h);
      const pen = activationPenalty(o.rawOutput, o.output, { alpha: 0, beta: 1e-3 });
      const total = pen ? o.loss.add(pen) : o.loss;
      const gs = grad(total, ps, { allowUnused: true });
      ps.forEach((p, k) => (p.grad = gs[k] ?? null));
      clipGradNorm(ps, 0.25);
      sgd.step();
      sgd.zeroGrad();
      return { loss: o.loss.item(), hidden: keep(o.hidden.detach()) };
    });
    const t1 = performance.now();
    h.dispose();
    h = r.hidden;
    if (!Number.isFinite(r.loss)) throw new Error(`non-finite loss at step ${i}`);
    process.stderr.write(`  [ts] ${i < warmup ? 'warm-up' : `step ${i - warmup + 1}/${steps}`}: ${((t1 - t0) / 1e3).toFixed(3)} s, loss ${r.loss.toFixed(4)}\n`);
    if (i >= warmup) {
      out.step_s.push((t1 - t0) / 1e3);
      out.losses.push(r.loss);
    }
  }
  out.maxrss_kb = process.resourceUsage().maxRSS;
  process.stdout.write(JSON.stringify(out) + '\n');
}

function parent(m: Map<string, string>): number {
  const configs = (m.get('configs') ?? 'small').split(',').map((s) => s.trim());
  for (const c of configs) if (!CONFIGS[c]) throw new Error(`unknown config '${c}' (known: ${Object.keys(CONFIGS).join(', ')})`);
  const steps = int(m, 'steps', 5), warmup = int(m, 'warmup', 1, 0), rounds = int(m, 'rounds', 2), seed = int(m, 'seed', 0, 0);
  const threads = getNumThreads();
  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(1)} GiB; libtorch ${libtorchVersion()}, intra-op threads ${threads} (TS and PyTorch)`);
  console.log(`evaluation-model training steps (DARTS_V2): ${warmup} warm-up + ${steps} timed per process, ${rounds} round(s) alternating ts/py, medians`);
  const head = ['config', 'weights', 'ts tokens/s', 'py tokens/s', 'ts/py (throughput)', 'ts peak MiB', 'py peak MiB'];
  const rows: string[][] = [];
  let failed = false;
  for (const name of configs) {
    const b = CONFIGS[name]!;
    const c: Cfg = { vocab: int(m, 'vocab', b.vocab), hidden: int(m, 'hidden', b.hidden), batch: int(m, 'batch', b.batch), bptt: int(m, 'bptt', b.bptt) };
    const custom = c.vocab !== b.vocab || c.hidden !== b.hidden || c.batch !== b.batch || c.bptt !== b.bptt;
    const label = `${name}${custom ? '*' : ''} V${c.vocab} H${c.hidden} B${c.batch} T${c.bptt}`;
    const common = ['--vocab', String(c.vocab), '--hidden', String(c.hidden), '--batch', String(c.batch), '--bptt', String(c.bptt), '--warmup', String(warmup), '--steps', String(steps), '--seed', String(seed)];
    const all: Record<'ts' | 'py', RunResult[]> = { ts: [], py: [] };
    for (let r = 0; r < rounds && !failed; r++) {
      for (const impl of ['ts', 'py'] as const) {
        try {
          const res = impl === 'ts' ? runChild<RunResult>(process.execPath, [here, '--child', ...common]) : runChild<RunResult>('/usr/bin/python3', [pyScript, ...common, '--threads', String(threads)]);
          if (res.step_s.length !== steps || !res.losses.every(Number.isFinite)) throw new Error('incomplete result or non-finite loss');
          all[impl].push(res);
        } catch (e) {
          console.error(`FAILED ${label} ${impl}: ${(e as Error).message}`);
          failed = true;
        }
      }
    }
    if (failed) continue;
    if (all.ts[0]!.params !== all.py[0]!.params) {
      console.error(`FAILED ${label}: parameter counts differ (ts ${all.ts[0]!.params}, py ${all.py[0]!.params})`);
      failed = true;
    }
    const tps = (rs: RunResult[]) => (c.bptt * c.batch) / median(rs.flatMap((r) => r.step_s));
    const rss = (rs: RunResult[]) => Math.max(...rs.map((r) => r.maxrss_kb)) / 1024;
    rows.push([label, String(all.ts[0]!.params), tps(all.ts).toFixed(0), tps(all.py).toFixed(0), (tps(all.ts) / tps(all.py)).toFixed(2), rss(all.ts).toFixed(0), rss(all.py).toFixed(0)]);
  }
  console.log(`| ${head.join(' | ')} |`);
  console.log(`|${head.map(() => '---').join('|')}|`);
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
  return failed ? 1 : 0;
}

const args = parseArgs(process.argv.slice(2));
if (args.has('child')) child(args);
else process.exitCode = parent(args);
