import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { readTrace } from '../../experiments/hessian-file.js';
import { replayEarlyStop, type EarlyStopOptions } from '../../search/methods/es-rules.js';

function num(name: string, integer: boolean) {
  return (v: string): number => {
    const x = Number(v);
    if (v.trim() === '' || !Number.isFinite(x) || (integer && !Number.isInteger(x))) {
      throw new ConfigError(`--${name} must be ${integer ? 'an integer' : 'a number'}, got ${JSON.stringify(v)}`, `e.g. --${name} ${integer ? 4 : 1.3}`);
    }
    return x;
  };
}

/** `rdarts es-replay` — replay a DARTS-ES rule over an eigenvalue trace. */
export function register(program: Command): void {
  program
    .command('es-replay')
    .description('replay the DARTS-ES early-stopping rule over a λ_max trace and report when it fires')
    .requiredOption('--trace <path>', 'eig --json output, a derivatives_*.json / Hessian JSON-lines file, or a run folder')
    .option('--rule <rule>', "'code' (reference code, default) or 'paper'", 'code')
    .option('--json', 'print exactly one JSON object {"detectEpoch", "stopEpoch", ...} on stdout')
    .option('--window <n>', 'code rule: local-average window in measurements (5)', num('window', true))
    .option('--ev-freq <n>', 'code rule: epochs between measurements (2)', num('ev-freq', true))
    .option('--start-epoch <n>', 'earliest epoch the rule may return (code 10, paper 0)', num('start-epoch', true))
    .option('--delta <n>', 'code rule: compared averages are delta measurements apart (4)', num('delta', true))
    .option('--factor <x>', 'code rule: fire when the average rose by more than this factor (1.3)', num('factor', false))
    .option('--last-epoch <n>', 'code rule: last epoch of the search (49)', num('last-epoch', true))
    .option('--k <n>', 'paper rule: local-average window and lag in epochs (5)', num('k', true))
    .option('--threshold <x>', 'paper rule: fire when λ̄(i−k)/λ̄(i) is below this (0.75)', num('threshold', false))
    .action((o: { trace: string; rule: string; json?: boolean } & EarlyStopOptions) => {
      if (o.rule !== 'code' && o.rule !== 'paper') throw new ConfigError(`--rule must be 'code' or 'paper', got ${JSON.stringify(o.rule)}`, 'use --rule code (reference code, default) or --rule paper');
      const trace = readTrace(o.trace);
      const { window, evFreq, startEpoch, delta, factor, lastEpoch, k, threshold } = o;
      const res = replayEarlyStop(trace, o.rule, { window, evFreq, startEpoch, delta, factor, lastEpoch, k, threshold });
      if (o.json) {
        process.stdout.write(JSON.stringify(res) + '\n');
        return;
      }
      const out: string[] = [];
      out.push(`${o.trace}: ${trace.length} measurement(s), epochs ${trace[0]!.epoch}…${trace[trace.length - 1]!.epoch}; rule '${res.rule}' ${JSON.stringify(res.options)}`);
      const cmp = res.rule === 'code' ? '>' : '<';
      const lim = res.rule === 'code' ? (res.options as { factor: number }).factor : (res.options as { threshold: number }).threshold;
      for (const c of res.checks) {
        out.push(`  epoch ${String(c.epoch).padStart(3)}: ratio ${c.ratio.toFixed(4)} ${c.fired ? cmp : cmp === '>' ? '≤' : '≥'} ${lim}${c.fired ? `  fires → epoch ${c.stopEpoch}` : ''}`);
      }
      if (res.detectEpoch === null) out.push('the rule never fires: the search runs to the end and returns the final architecture');
      else out.push(`fires at epoch ${res.detectEpoch}; returns the architecture of epoch ${res.stopEpoch}`);
      process.stdout.write(out.join('\n') + '\n');
      for (const w of res.warnings) process.stderr.write(`warning: ${w}\n`);
    });
}
