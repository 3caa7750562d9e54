import type { Command } from 'commander';
import { readHessianSource } from '../../experiments/hessian-file.js';
import { traceDetails } from '../../analysis/trace.js';

/** `rdarts eig` — dominant Hessian eigenvalue of each logged measurement. */
export function register(program: Command): void {
  program
    .command('eig')
    .description('print the dominant eigenvalue λ_max of each Hessian measurement in a file or run folder')
    .requiredOption('--hessian-file <path>', 'reference derivatives_*.json, a Hessian JSON-lines file, a metrics.jsonl, or a run folder')
    .option('--json', 'print exactly a JSON array [{"epoch", "maxEigenvalue"}, ...] on stdout')
    .option('--no-shift', "subtract the diagonal shift the writer added (the reference's α weight decay 1e-3)")
    .action((opts: { hessianFile: string; json?: boolean; shift: boolean }) => {
      const records = readHessianSource(opts.hessianFile);
      const rows = traceDetails(records, { removeShift: !opts.shift });
      if (opts.json) {
        process.stdout.write(JSON.stringify(rows.map(({ epoch, maxEigenvalue }) => ({ epoch, maxEigenvalue }))) + '\n');
        return;
      }
      const shifts = new Set(records.map((r) => r.shift ?? 0));
      const note = opts.shift
        ? shifts.size === 1 && [...shifts][0] !== 0
          ? ` (includes the logged diagonal shift +${[...shifts][0]}; --no-shift removes it)`
          : ''
        : ' (diagonal shift removed)';
      const lines = [`${opts.hessianFile}: ${rows.length} measurement(s)${note}`, `${'epoch'.padStart(6)}  ${'n'.padStart(4)}  ${'λ_max'.padStart(12)}  source`];
      for (const r of rows) {
        const src = r.logged ? 'logged' : 'from H';
        lines.push(`${String(r.epoch).padStart(6)}  ${String(r.n ?? '-').padStart(4)}  ${r.maxEigenvalue.toFixed(6).padStart(12)}  ${src}`);
      }
      process.stdout.write(lines.join('\n') + '\n');
      const asym = Math.max(0, ...rows.map((r) => r.asymmetry ?? 0));
      if (asym > 1e-8) process.stderr.write(`warning: a Hessian is not symmetric (max|H−Hᵀ|/max|H| = ${asym.toExponential(2)}); its symmetric part was used\n`);
    });
}
