/**
 * SDARTS bench (issue 11, docs/sdarts.md): λ_max of plain DARTS vs SDARTS-RS vs SDARTS-ADV on
 * one small collapsing search, same seed, same data, same everything else. Each search is a run
 * folder under --out (rdarts report works on each); the bench prints per-method λ_max at every
 * measured epoch, its mean and final value, and the collapse monitor's skip count / parameter-free
 * mass at the end, then writes summary.json. The claim to check: both SDARTS variants end with a
 * lower λ_max than DARTS (Chen & Hsieh 2020, Fig. 3).
 *
 *   node dist/bench/sdarts.js --out runs/bench-sdarts                       # S3, CIFAR-10 in --data-dir, 20 epochs (hours on CPU)
 *   node dist/bench/sdarts.js --out runs/bench-sdarts --dataset synthetic   # no data needed
 *   node dist/bench/sdarts.js --out /tmp/sd --quick                         # smoke test: tiny sizes, 2 epochs
 *
 * Options: --space (s3), --dataset (cifar10), --data-dir, --subset (5000), --epochs (20),
 * --layers (5), --channels (8), --batch (32), --steps-per-epoch, --seed (1), --order (first),
 * --hessian-every (2), --epsilon (0.3), --pgd-steps (7), --methods darts,rs,adv, --device (cpu).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../src/search/config.js';
import { runSearch } from '../src/experiments/search-run.js';
import { readRun } from '../src/experiments/run-reader.js';

function parseArgs(argv: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`unexpected argument '${a}'`);
    if (a === '--quick') m.set('quick', '1');
    else {
      const v = argv[++i];
      if (v === undefined) throw new Error(`${a} needs a value`);
      m.set(a.slice(2), v);
    }
  }
  return m;
}

const args = parseArgs(process.argv.slice(2));
const quick = args.has('quick');
const get = (k: string, d: string) => args.get(k) ?? d;
const int = (k: string, d: number) => {
  const v = Number(get(k, String(d)));
  if (!Number.isInteger(v) || v < 0) throw new Error(`--${k} must be a non-negative integer`);
  return v;
};
const out = args.get('out');
if (!out) throw new Error('--out DIR is required (one run folder per method goes there)');
const methods = get('methods', 'darts,rs,adv').split(',').map((s) => s.trim()) as Array<'darts' | 'rs' | 'adv'>;
for (const m of methods) if (!['darts', 'rs', 'adv'].includes(m)) throw new Error(`--methods: unknown '${m}' (darts, rs, adv)`);

const dataset = get('dataset', quick ? 'synthetic' : 'cifar10');
const base: DeepPartial<SearchConfig> = {
  method: 'darts',
  space: get('space', 's3'),
  dataset: dataset as SearchConfig['dataset'],
  dataDir: args.get('data-dir') ?? null,
  subset: dataset === 'synthetic' ? null : int('subset', 5000),
  synthetic: quick ? { n: 64, channels: 3, size: 8, numClasses: 4 } : { n: 2048, channels: 3, size: 32, numClasses: 10 },
  epochs: int('epochs', quick ? 2 : 20),
  layers: int('layers', quick ? 3 : 5),
  channels: int('channels', quick ? 2 : 8),
  batchSize: int('batch', quick ? 8 : 32),
  stepsPerEpoch: args.has('steps-per-epoch') ? int('steps-per-epoch', 0) : quick ? 2 : null,
  evalBatches: quick ? 1 : null,
  seed: int('seed', 1),
  order: get('order', 'first') as 'first' | 'second',
  hessian: { every: int('hessian-every', quick ? 1 : 2), ...(quick ? { lanczosIterations: 6, topK: 1 } : {}) },
  analysis: { discretization: 'off', collapse: 'on' },
  device: get('device', 'cpu'),
};

interface Row {
  method: string;
  dir: string;
  lambda: Array<{ epoch: number; maxEigenvalue: number }>;
  meanLambda: number | null;
  finalLambda: number | null;
  finalSkipsNormal: number | null;
  finalParamFreeMassNormal: number | null;
  finalValidAcc: number | null;
  genotype: string | null;
  seconds: number;
}

mkdirSync(out, { recursive: true });
const rows: Row[] = [];
for (const m of methods) {
  const cfg = resolveConfig(undefined, { ...base, ...(m === 'darts' ? {} : { sdarts: { mode: m, epsilon: Number(get('epsilon', '0.3')), steps: int('pgd-steps', quick ? 2 : 7) } }) } as DeepPartial<SearchConfig>, `bench ${m}`);
  const dir = join(out, m === 'darts' ? 'darts' : `sdarts-${m}`);
  const t0 = performance.now();
  process.stderr.write(`bench sdarts: ${m} → ${dir}\n`);
  await runSearch(cfg, { out: dir });
  const seconds = (performance.now() - t0) / 1000;
  const run = readRun(dir);
  const lambda = run.hessians.map((h) => ({ epoch: h.epoch, maxEigenvalue: h.maxEigenvalue }));
  const last = run.collapses.at(-1);
  rows.push({
    method: m === 'darts' ? 'DARTS' : `SDARTS-${m.toUpperCase()}`,
    dir,
    lambda,
    meanLambda: lambda.length ? lambda.reduce((a, b) => a + b.maxEigenvalue, 0) / lambda.length : null,
    finalLambda: lambda.at(-1)?.maxEigenvalue ?? null,
    finalSkipsNormal: last?.skips.normal ?? null,
    finalParamFreeMassNormal: last?.paramFreeMass.normal ?? null,
    finalValidAcc: run.epochs.at(-1)?.valid.acc ?? null,
    genotype: run.result?.repr ?? null,
    seconds,
  });
}

const f = (v: number | null, d = 4) => (v === null ? '—' : v.toPrecision(d));
console.log(`SDARTS bench: ${base.space} on ${dataset}, ${base.epochs} epochs, seed ${base.seed}, ${base.order} order, λ_max every ${(base.hessian as { every: number }).every} epoch(s)`);
console.log('method        | mean λ_max | final λ_max | skips (normal) | param-free mass (normal) | valid acc | seconds');
for (const r of rows) {
  console.log(`${r.method.padEnd(13)} | ${f(r.meanLambda).padStart(10)} | ${f(r.finalLambda).padStart(11)} | ${String(r.finalSkipsNormal ?? '—').padStart(14)} | ${f(r.finalParamFreeMassNormal, 3).padStart(24)} | ${f(r.finalValidAcc, 3).padStart(9)} | ${r.seconds.toFixed(0)}`);
}
const darts = rows.find((r) => r.method === 'DARTS');
for (const r of rows) {
  if (r === darts || !darts || r.finalLambda === null || darts.finalLambda === null) continue;
  console.log(`${r.method}: final λ_max ${r.finalLambda < darts.finalLambda ? 'below' : 'NOT below'} DARTS (${f(r.finalLambda)} vs ${f(darts.finalLambda)})`);
}
writeFileSync(join(out, 'summary.json'), JSON.stringify({ config: base, rows }, null, 2) + '\n');
