/**
 * Where a search step's time goes, operator by operator, TS against its PyTorch twin (docs/speed.md#profiling):
 * libtorch's profiler in the TS child (bench/search-steps.ts --profile) and torch.profiler in the
 * PyTorch one (bench/py/search_steps.py --profile), over the same timed steps of the same config;
 * one table of self time per step and operator, both sides, largest first.
 *
 *   node dist/bench/profile.js                                  # config (b), second order, 2 steps, 1 thread
 *   node dist/bench/profile.js --order first --threads 2 --top 30
 *   node dist/bench/profile.js --layers 3 --channels 4 --batch 4 --steps 1   # tiny smoke test
 *   node dist/bench/profile.js --json out.json                  # also write both sides' rows
 *
 * The profilers add a few µs per operator call, so the totals are a little above the benches'
 * step times; read the shares and the per-op ratios, not the sums.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import type { OpProfile } from '../src/torch/index.js';

const here = fileURLToPath(import.meta.url);
const tsChild = join(dirname(here), 'search-steps.js');
const pyScript = join(dirname(here), '..', '..', 'bench', 'py', 'search_steps.py');

function flag(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = process.argv[i + 1];
  if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
  return v;
}
function intFlag(name: string, def: number): number {
  const v = Number(flag(name, String(def)));
  if (!Number.isInteger(v) || v < 1) throw new Error(`--${name} must be a positive integer`);
  return v;
}

const order = flag('order', 'second');
if (order !== 'first' && order !== 'second') throw new Error('--order must be first or second');
const layers = intFlag('layers', 5);
const C = intFlag('channels', 8);
const B = intFlag('batch', 32);
const steps = intFlag('steps', 2);
const threads = intFlag('threads', 1);
const top = intFlag('top', 25);
const json = process.argv.includes('--json') ? flag('json', '') : undefined;

const dir = mkdtempSync(join(tmpdir(), 'rdarts-profile-'));
try {
  const common = ['--order', order, '--layers', String(layers), '--warmup', '1', '--steps', String(steps), '--space', 'darts', '--batch', String(B), '--seed', '1'];
  const run = (cmd: string, args: string[], env: NodeJS.ProcessEnv): void => {
    process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
    const r = spawnSync(cmd, args, { env, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${cmd} exited with ${r.status}`);
  };
  const tsFile = join(dir, 'ts.json');
  const pyFile = join(dir, 'py.json');
  run(process.execPath, [tsChild, '--child', ...common, '--channels', String(C), '--profile', tsFile], { ...process.env, RDARTS_THREADS: String(threads) });
  run('/usr/bin/python3', [pyScript, ...common, '--C', String(C), '--threads', String(threads), '--profile', pyFile], process.env);
  const ts = JSON.parse(readFileSync(tsFile, 'utf8')) as OpProfile[];
  const py = JSON.parse(readFileSync(pyFile, 'utf8')) as OpProfile[];
  if (json) writeFileSync(json, JSON.stringify({ order, layers, C, B, steps, threads, ts, py }, null, 1) + '\n');

  const total = (rows: OpProfile[]): number => rows.reduce((s, r) => s + r.selfUs, 0);
  const tsTotal = total(ts);
  const pyTotal = total(py);
  const byName = new Map<string, { ts?: OpProfile; py?: OpProfile }>();
  for (const r of ts) byName.set(r.name, { ...byName.get(r.name), ts: r });
  for (const r of py) byName.set(r.name, { ...byName.get(r.name), py: r });
  const rows = [...byName.entries()].sort((a, b) => Math.max(b[1].ts?.selfUs ?? 0, b[1].py?.selfUs ?? 0) - Math.max(a[1].ts?.selfUs ?? 0, a[1].py?.selfUs ?? 0));
  const ms = (us: number | undefined): string => (us === undefined ? '–' : (us / 1e3 / steps).toFixed(1));
  const pct = (us: number | undefined, t: number): string => (us === undefined ? '' : ` (${((100 * us) / t).toFixed(1)} %)`);
  console.log(`self time per step by operator, config ${layers} cells C${C} B${B}, ${order} order, ${steps} steps, ${threads} thread(s)`);
  console.log(`| operator | TS calls | TS self ms/step | PyTorch calls | PyTorch self ms/step | TS / PyTorch |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const [name, r] of rows.slice(0, top)) {
    const ratio = r.ts && r.py && r.py.selfUs > 0 ? (r.ts.selfUs / r.py.selfUs).toFixed(2) : '–';
    const calls = (p: OpProfile | undefined): string => (p ? String(Math.round(p.calls / steps)) : '–');
    console.log(`| ${name.replace(/\|/g, '\\|').slice(0, 70)} | ${calls(r.ts)} | ${ms(r.ts?.selfUs)}${pct(r.ts?.selfUs, tsTotal)} | ${calls(r.py)} | ${ms(r.py?.selfUs)}${pct(r.py?.selfUs, pyTotal)} | ${ratio} |`);
  }
  console.log(`| all operators | | ${ms(tsTotal)} | | ${ms(pyTotal)} | ${(tsTotal / pyTotal).toFixed(2)} |`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
