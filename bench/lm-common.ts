/** Helpers of the language-modelling benches (bench/lm-search.ts, bench/lm-train.ts): argument parsing, medians, child processes. */
import { spawnSync } from 'node:child_process';

export function parseArgs(argv: string[]): Map<string, string> {
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

export function int(m: Map<string, string>, k: string, def: number, min = 1): number {
  const s = m.get(k);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isInteger(v) || v < min) throw new Error(`--${k} must be an integer ≥ ${min}, got '${s}'`);
  return v;
}

export const median = (v: number[]): number => {
  const s = [...v].sort((p, q) => p - q);
  const n = s.length;
  return n % 2 ? s[(n - 1) / 2]! : 0.5 * (s[n / 2 - 1]! + s[n / 2]!);
};

/** Run a child that prints one JSON object as its last stdout line (stderr passes through). */
export function runChild<T>(cmd: string, args: string[]): T {
  process.stderr.write(`$ ${cmd} ${args.join(' ')}\n`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.error) throw new Error(`${cmd} could not run: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${cmd} ${args[0]} exited with ${r.status ?? r.signal}`);
  const last = r.stdout.trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(last) as T;
  } catch {
    throw new Error(`${cmd}: no JSON result on stdout (got '${last.slice(0, 200)}')`);
  }
}
