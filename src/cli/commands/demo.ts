import { Command } from 'commander';
import type { DeepPartial, SearchConfig } from '../../search/config.js';
import type { EvalSettings } from '../../search/eval-config.js';
import type { SearchEvent } from '../../search/trainer.js';
import type { EvalEvent } from '../../search/eval-trainer.js';
import { MINIATURE_METHODS, MINIATURE_SEARCH, MINIATURE_TRAIN, runMiniature } from '../../experiments/miniature.js';
import { searchProgress } from '../progress.js';
import { integer, number } from './search.js';
import { trainProgress } from './train.js';

interface DemoFlags {
  out?: string;
  space?: string;
  subset?: number;
  epochs?: number;
  archLr?: number;
  seed?: number;
  trainEpochs?: number;
  train: boolean;
  json?: boolean;
  quiet?: boolean;
  logEvery?: number;
}

function stamp(): string {
  return new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
}

/**
 * The README's main job: RobustDARTS in miniature (experiments/miniature.ts) — DARTS, DARTS-ES
 * and DARTS-ADA searched from one seed on S3 with real Fashion-MNIST, each found cell trained
 * briefly from scratch, one report with the eigenvalue trajectories, decisions, cells and test
 * errors. Resumable: run it again with the same --out to continue.
 */
export function register(program: Command): void {
  const s = MINIATURE_SEARCH as DeepPartial<SearchConfig>;
  const t = MINIATURE_TRAIN as DeepPartial<EvalSettings>;
  program
    .command('demo')
    .description(
      `RobustDARTS in miniature: ${MINIATURE_METHODS.map((m) => m.label).join(' vs ')} on ${String(s.space).toUpperCase()} ` +
        `(${s.subset} Fashion-MNIST images, ${s.layers} cells × ${s.channels} channels, ${s.epochs} epochs, Hessian eigenvalue every epoch), ` +
        `each found cell retrained for ${t.epochs} epochs; writes one report (report.html) with the eigenvalue trajectories, the decisions, ` +
        'the cells and a table of test errors. Run again with the same --out to resume.',
    )
    .option('--out <dir>', 'folder for the runs and the report (default runs/demo-<time>)')
    .option('--space <name>', `search space (default ${String(s.space)})`)
    .option('--subset <n>', `Fashion-MNIST training images used by the searches (default ${s.subset})`, integer('--subset'))
    .option('--epochs <n>', `search epochs (default ${s.epochs})`, integer('--epochs'))
    .option('--arch-lr <x>', `architecture learning rate (default ${s.archLr})`, number('--arch-lr'))
    .option('--seed <n>', `seed of every search and training (default ${s.seed})`, integer('--seed'))
    .option('--train-epochs <n>', `epochs of each retraining (default ${t.epochs})`, integer('--train-epochs'))
    .option('--no-train', 'skip the retraining (the report then has no test errors)')
    .option('--json', 'print the table and the verdict as JSON on stdout')
    .option('--quiet', 'no progress display')
    .option('--log-every <n>', 'without a TTY, print a progress line every n steps', integer('--log-every'))
    .action(async (f: DemoFlags) => {
      const search: Record<string, unknown> = {};
      if (f.space !== undefined) search.space = f.space;
      if (f.subset !== undefined) search.subset = f.subset;
      if (f.epochs !== undefined) search.epochs = f.epochs;
      if (f.archLr !== undefined) search.archLr = f.archLr;
      if (f.seed !== undefined) search.seed = f.seed;
      const train: Record<string, unknown> = {};
      if (f.trainEpochs !== undefined) train.epochs = f.trainEpochs;
      if (f.seed !== undefined) train.seed = f.seed;
      const quiet = f.quiet ?? false;
      const progress = { quiet, ...(f.logEvery ? { logEvery: f.logEvery } : {}) };
      const searchBars = new Map<string, (e: SearchEvent) => void>();
      const trainBars = new Map<string, (e: EvalEvent) => void>();
      const say = (m: string): void => {
        if (!quiet) process.stderr.write(`[demo] ${m}\n`);
      };
      const r = await runMiniature({
        out: f.out ?? `runs/demo-${stamp()}`,
        search: search as DeepPartial<SearchConfig>,
        train: train as DeepPartial<EvalSettings>,
        noTrain: !f.train,
        onNote: say,
        onSearchEvent: (label, e) => {
          if (!searchBars.has(label)) searchBars.set(label, searchProgress(progress));
          searchBars.get(label)!(e);
        },
        onTrainEvent: (label, e) => {
          if (!trainBars.has(label)) trainBars.set(label, trainProgress(progress));
          trainBars.get(label)!(e);
        },
      });
      if (f.json) {
        process.stdout.write(JSON.stringify({ out: r.out, report: r.htmlPath, seconds: r.seconds, rows: r.rows, verdict: r.verdict }, null, 2) + '\n');
        return;
      }
      const pctOr = (x: number | null): string => (x === null ? 'missing' : `${(100 * x).toFixed(2)} %`);
      const lines = [
        '',
        'method      λ_max first → last   skips  test error',
        ...r.rows.map(
          (row) =>
            `${row.method.padEnd(11)} ${(row.firstEigenvalue?.toFixed(4) ?? '-').padStart(7)} → ${(row.finalEigenvalue?.toFixed(4) ?? '-').padEnd(9)} ${String(row.normalSkips ?? '-').padStart(5)}  ${pctOr(row.testError)}`,
        ),
        '',
        ...r.verdict.map((v) => `- ${v}`),
        '',
        `report: ${r.htmlPath}`,
        `runs: ${r.out}  (${Math.round(r.seconds)} s)`,
      ];
      process.stdout.write(lines.join('\n') + '\n');
    });
}
