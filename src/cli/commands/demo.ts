import { Command } from 'commander';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../../search/config.js';
import { runSearch } from '../../experiments/search-run.js';
import { searchProgress } from '../progress.js';
import { addSearchOptions, defaultOutDir, flagsToOverrides, printResult, type SearchFlags } from './search.js';

/**
 * The README's main job: a reduced DARTS search that finishes within about 15 minutes on two
 * CPU cores, on real data that ships with Debian (Fashion-MNIST), with the Hessian monitor on.
 * Every field can be overridden with the same flags as `rdarts search`.
 */
export const DEMO_CONFIG: DeepPartial<SearchConfig> = {
  method: 'darts',
  space: 's3',
  dataset: 'fashion-mnist',
  subset: 2000,
  layers: 5,
  channels: 8,
  epochs: 6,
  batchSize: 32,
  order: 'second',
  seed: 1,
  hessian: { every: 1, method: 'lanczos', topK: 5, batches: 1 },
};

export function register(program: Command): void {
  const cmd = program
    .command('demo')
    .description(
      'a reduced search to see everything work: S3 space, 5 cells × 8 channels, 2,000 Fashion-MNIST images, 6 epochs, second order, ' +
        'Hessian eigenvalue every epoch; writes a run folder with report.html, cell diagrams and plots (about 6 minutes on 2 cores)',
    )
    .option('--out <dir>', 'run folder (default runs/demo-...)')
    .option('--no-report', 'skip report.html and the plots');
  addSearchOptions(cmd);
  cmd.action(async (f: SearchFlags & { report: boolean }) => {
    const cfg = resolveConfig(DEMO_CONFIG as Record<string, unknown>, flagsToOverrides(f), 'demo');
    const out = f.out ?? defaultOutDir(cfg).replace(/^runs\//, 'runs/demo-');
    const result = await runSearch(cfg, { out, onEvent: searchProgress({ quiet: f.quiet ?? false, ...(f.logEvery ? { logEvery: f.logEvery } : {}) }) });
    printResult(result, f.json);
    if (f.report && !f.json) {
      const { buildReport } = await import('../../experiments/reports.js');
      const r = await buildReport(out);
      process.stdout.write(`report: ${r.htmlPath}\nplots: ${r.files.filter((p) => p.endsWith('.svg')).join(', ')}\n`);
    }
  });
}
