/**
 * Threads bench (issue 14, docs/threads.md): how OpenMP's waiting policy behaves when several
 * searches share the machine. For each policy, one tiny search alone, then N of them started at
 * once (wall time per run, and the batch's wall time over N × the lone time: the target is at
 * most 1.15), and one lone config-(b) search (darts space, 5 cells, C8, batch 32, second order,
 * 3 steps) to check that a lone run stays within 5 % of libgomp's default. Every run is a real
 * `rdarts search` child process with the policy in its environment (libgomp reads it at load).
 *
 *   node dist/bench/threads.js                       # the full table (quiet machine: ~30–40 min on 2 cores)
 *   node dist/bench/threads.js --quick               # shorter runs, fewer policies (a few minutes)
 *   node dist/bench/threads.js --policies passive,spin-1e4 --concurrency 1,2 --reps 2 --no-config-b
 *   node dist/bench/threads.js --proxy               # no searches: a fixed loop of small conv steps
 *                                                    # per run (seconds, for a machine too loaded for searches)
 *
 * Policies: rdarts-default (what a run does unless told otherwise: libgomp's own waiting and thread
 * sharing, docs/threads.md#sharing), and with sharing off (RDARTS_THREAD_SHARE=0), the waiting
 * policies alone: libgomp-default (GOMP_SPINCOUNT=300000, which is what libgomp uses when neither
 * variable is set; the behaviour before sharing), passive (OMP_WAIT_POLICY=PASSIVE), spin-1e3 … spin-1e6.
 * Threads per run: the rdarts default (the CPUs the process may use) unless --threads n.
 */
import { spawn } from 'node:child_process';
import { cpus, loadavg, tmpdir } from 'node:os';
import { mkdtempSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { OPENMP_DEFAULTS as DEFAULTS } from '../src/torch/openmp.js';

const here = fileURLToPath(import.meta.url);
const cli = join(dirname(here), '..', 'src', 'cli', 'main.js');

const NO_SHARE = { RDARTS_THREAD_SHARE: '0' };
/** Each policy's environment; all but rdarts-default turn thread sharing off, so they measure waiting alone. */
const POLICIES: Record<string, Record<string, string>> = {
  'rdarts-default': {},
  'libgomp-default': { GOMP_SPINCOUNT: '300000', ...NO_SHARE },
  passive: { OMP_WAIT_POLICY: 'PASSIVE', ...NO_SHARE },
  'spin-1e3': { GOMP_SPINCOUNT: '1000', ...NO_SHARE },
  'spin-1e4': { GOMP_SPINCOUNT: '10000', ...NO_SHARE },
  'spin-1e5': { GOMP_SPINCOUNT: '100000', ...NO_SHARE },
  'spin-1e6': { GOMP_SPINCOUNT: '1000000', ...NO_SHARE },
};

/** The tiny search of issue 14: synthetic data, 3 cells, 4 channels, 2 epochs, Hessian every epoch. */
const TINY = ['--dataset', 'synthetic', '--layers', '3', '--channels', '4', '--epochs', '2', '--hessian-every', '1'];
/** --quick: the same search cut to a few steps per epoch. */
const TINY_QUICK = [...TINY, '--steps-per-epoch', '4', '--eval-batches', '2'];
/** Config (b) of the search-step bench, 3 weight steps, no Hessian. */
const CONFIG_B = ['--dataset', 'synthetic', '--space', 'darts', '--layers', '5', '--channels', '8', '--batch-size', '32', '--order', 'second', '--epochs', '1', '--steps-per-epoch', '3', '--eval-batches', '1', '--hessian-every', '0'];

interface Args {
  policies: string[];
  concurrency: number[];
  reps: number;
  configB: boolean;
  quick: boolean;
  proxy: boolean;
  threads: number | undefined;
}

function parseArgs(argv: string[]): Args {
  const a: Args = { policies: ['rdarts-default', 'libgomp-default', 'passive', 'spin-1e3', 'spin-1e4', 'spin-1e5', 'spin-1e6'], concurrency: [1, 2, 4], reps: 1, configB: true, quick: false, proxy: false, threads: undefined };
  let policiesGiven = false;
  for (let i = 0; i < argv.length; i++) {
    const f = argv[i]!;
    const next = (): string => {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${f} needs a value`);
      return v;
    };
    if (f === '--quick') a.quick = true;
    else if (f === '--proxy') a.proxy = true;
    else if (f === '--no-config-b') a.configB = false;
    else if (f === '--policies') (a.policies = next().split(',')), (policiesGiven = true);
    else if (f === '--concurrency') a.concurrency = next().split(',').map(Number);
    else if (f === '--reps') a.reps = Number(next());
    else if (f === '--threads') a.threads = Number(next());
    else throw new Error(`unknown flag ${f} (see the comment at the top of bench/threads.ts)`);
  }
  if ((a.quick || a.proxy) && !policiesGiven) a.policies = ['rdarts-default', 'libgomp-default', 'passive', 'spin-1e4'];
  for (const p of a.policies) if (!POLICIES[p]) throw new Error(`unknown policy ${p}; known: ${Object.keys(POLICIES).join(', ')}`);
  if (!a.concurrency.includes(1)) a.concurrency.unshift(1);
  return a;
}

function childEnv(policy: string, threads: number | undefined): NodeJS.ProcessEnv {
  // the bench reads its own environment only to pass it on to the runs it starts
  const env: NodeJS.ProcessEnv = { ...process.env, RDARTS_BUSY_WARNING: '0' };
  delete env.OMP_WAIT_POLICY;
  delete env.GOMP_SPINCOUNT;
  delete env.RDARTS_THREADS;
  delete env.RDARTS_THREAD_SHARE;
  if (threads !== undefined) env.RDARTS_THREADS = String(threads);
  return { ...env, ...POLICIES[policy] };
}

/** What one run is: `rdarts search` with these flags, or (proxy) this file's child loop of small conv steps. */
type Work = { kind: 'search'; args: string[] } | { kind: 'proxy'; args: string[] };

/** Run one child; resolves to its wall time in seconds. */
function runOne(work: Work, env: NodeJS.ProcessEnv, root: string, k: number): Promise<number> {
  const out = join(root, `run-${k}-${Math.random().toString(36).slice(2, 8)}`);
  const argv = work.kind === 'search' ? [cli, 'search', ...work.args, '--quiet', '--out', out] : [here, '--proxy-child', ...work.args];
  const t0 = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('error', reject);
    p.on('close', (code) => {
      const s = Number(process.hrtime.bigint() - t0) / 1e9;
      rmSync(out, { recursive: true, force: true });
      if (code === 0) resolve(s);
      else reject(new Error(`${work.kind} child exited with ${code}: ${err.slice(-2000)}`));
    });
  });
}

/** N runs started at once: each run's wall time and the batch's. */
async function batch(work: Work, env: NodeJS.ProcessEnv, n: number, root: string): Promise<{ perRun: number[]; total: number }> {
  const t0 = process.hrtime.bigint();
  const perRun = await Promise.all(Array.from({ length: n }, (_, k) => runOne(work, env, root, k)));
  return { perRun, total: Number(process.hrtime.bigint() - t0) / 1e9 };
}

const mean = (xs: number[]): number => xs.reduce((s, x) => s + x, 0) / xs.length;

/**
 * The proxy child: `iters` steps of a small conv block (ReLU → 3×3 conv → batch norm → loss,
 * gradient w.r.t. the input and the weight) on an n×c×s×s batch. Short parallel regions, as in a
 * tiny search, so the time threads spend waiting for each other shows.
 */
async function proxyChild(argv: string[]): Promise<void> {
  const [iters, n, c, s] = argv.map(Number) as [number, number, number, number];
  const t = await import('../src/torch/index.js');
  t.manualSeed(0);
  const x = t.randn([n, c, s, s]).requiresGrad_();
  const w = t.randn([c, c, 3, 3]).mul(0.1).requiresGrad_();
  for (let i = 0; i < iters; i++) {
    t.tidy(() => {
      const y = t.F.batchNorm(t.F.conv2d(x.relu(), w, null, { padding: 1 }), null, null, { training: true });
      t.grad(y.mul(y).mean(), [x, w]);
    });
  }
}

/** --proxy: tiny = a block the size of the tiny search's cells; config (b) = C8, batch 32. */
const PROXY_TINY = ['400', '16', '4', '16'];
const PROXY_B = ['100', '32', '16', '32'];

async function main(): Promise<void> {
  if (process.argv[2] === '--proxy-child') return proxyChild(process.argv.slice(3));
  const a = parseArgs(process.argv.slice(2));
  const tiny: Work = a.proxy ? { kind: 'proxy', args: PROXY_TINY } : { kind: 'search', args: a.quick ? TINY_QUICK : TINY };
  const big: Work = a.proxy ? { kind: 'proxy', args: PROXY_B } : { kind: 'search', args: CONFIG_B };
  const root = mkdtempSync(join(tmpdir(), 'rdarts-threads-bench-'));
  const started = Date.now();
  console.log(`command: node ${process.argv.slice(1).join(' ')}`);
  console.log(`machine: ${cpus().length} CPUs (${cpus()[0]?.model ?? '?'}); 1-minute load at start ${loadavg()[0]!.toFixed(2)}; threads per run: ${a.threads ?? 'rdarts default'}`);
  console.log(
    a.proxy
      ? `proxy runs (no searches): ${PROXY_TINY[0]} steps of a conv block on ${PROXY_TINY.slice(1).join('×')} (tiny), ${PROXY_B[0]} on ${PROXY_B.slice(1).join('×')} (config (b) column)`
      : `tiny search: rdarts search ${tiny.args.join(' ')}; config (b): rdarts search ${CONFIG_B.join(' ')}`,
  );
  console.log(`${a.reps} rep(s); policies interleaved within each concurrency level`);
  console.log(`rdarts default: OpenMP ${Object.entries(DEFAULTS).map(([k, v]) => `${k}=${v}`).join(' ') || "libgomp's own waiting"} (unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set), thread sharing on`);
  // times[policy][n] = { perRun means, batch totals } over reps; policies interleaved to spread drift in the machine's load
  const times = new Map<string, Map<number, { perRun: number[]; total: number[] }>>();
  for (const p of a.policies) times.set(p, new Map(a.concurrency.map((n) => [n, { perRun: [], total: [] }])));
  const configB = new Map<string, number[]>(a.policies.map((p) => [p, []]));
  const loads: number[] = [];
  try {
    for (let rep = 0; rep < a.reps; rep++) {
      for (const n of a.concurrency) {
        for (const p of a.policies) {
          loads.push(loadavg()[0]!);
          const r = await batch(tiny, childEnv(p, a.threads), n, root);
          const cell = times.get(p)!.get(n)!;
          cell.perRun.push(mean(r.perRun));
          cell.total.push(r.total);
          console.log(`  rep ${rep + 1} ${p} ×${n}: per run ${r.perRun.map((s) => s.toFixed(1)).join(', ')} s; batch ${r.total.toFixed(1)} s`);
        }
      }
      if (a.configB) {
        for (const p of a.policies) {
          loads.push(loadavg()[0]!);
          const s = await runOne(big, childEnv(p, a.threads), root, 0);
          configB.get(p)!.push(s);
          console.log(`  rep ${rep + 1} ${p} config (b) alone: ${s.toFixed(1)} s`);
        }
      }
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }

  const multi = a.concurrency.filter((n) => n > 1);
  const head = ['policy', 'tiny alone (s)', ...multi.flatMap((n) => [`${n} at once: s/run`, `${n} at once: batch ÷ (${n}× alone)`]), ...(a.configB ? ['config (b) alone (s)', 'vs libgomp default'] : [])];
  const baseB = configB.get('libgomp-default');
  const rows = a.policies.map((p) => {
    const t = times.get(p)!;
    const alone = mean(t.get(1)!.total);
    const cells = [p, alone.toFixed(1)];
    for (const n of multi) {
      const c = t.get(n)!;
      cells.push(mean(c.perRun).toFixed(1), `${(mean(c.total) / (n * alone)).toFixed(2)}×`);
    }
    if (a.configB) {
      const b = mean(configB.get(p)!);
      cells.push(b.toFixed(1), baseB && baseB.length ? `${(100 * (b / mean(baseB) - 1)).toFixed(0).replace(/^(?!-)/, '+')} %` : '—');
    }
    return cells;
  });
  console.log('');
  console.log('| ' + head.join(' | ') + ' |');
  console.log('|' + head.map(() => '---').join('|') + '|');
  for (const r of rows) console.log('| ' + r.join(' | ') + ' |');
  console.log('');
  console.log(`(${a.reps} rep(s); means; 1-minute load during the bench ${Math.min(...loads).toFixed(1)}–${Math.max(...loads).toFixed(1)} on ${cpus().length} CPUs; ${((Date.now() - started) / 60000).toFixed(1)} min)`);
}


await main();
