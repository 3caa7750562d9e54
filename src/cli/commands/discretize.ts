import type { Command } from 'commander';
import { measureDiscretization } from '../../experiments/discretize-run.js';
import { integer } from './search.js';

/** `rdarts discretize RUN_DIR` — the discretisation drop, reference and with batch-norm statistics re-estimated. */
export function register(program: Command): void {
  program
    .command('discretize')
    .description("accuracy drop after discretising a search's supernet: with the mixture's batch-norm statistics (the reference) and with statistics re-estimated for the one-hot network; writes nothing")
    .argument('<run-dir>', 'a search run folder (its newest checkpoint is used)')
    .option('--bn-batches <n>', 'training batches to re-estimate the batch-norm statistics on (default 10)', integer('--bn-batches'))
    .option('--eval-batches <n>', "validation batches (default: the run's evalBatches, else the whole split)", integer('--eval-batches'))
    .option('--json', 'print the result as JSON on stdout')
    .action(async (dir: string, f: { bnBatches?: number; evalBatches?: number; json?: boolean }) => {
      const r = await measureDiscretization(dir, { ...(f.bnBatches ? { bnBatches: f.bnBatches } : {}), ...(f.evalBatches ? { evalBatches: f.evalBatches } : {}) });
      if (f.json) {
        process.stdout.write(JSON.stringify(r) + '\n');
        return;
      }
      const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
      process.stdout.write(
        [
          `supernet of epoch ${r.epoch}, ${r.valImages} validation images`,
          `soft (softmax α)                              accuracy ${pct(r.soft.acc)}`,
          `one-hot, mixture batch-norm statistics (ref.) accuracy ${pct(r.discrete.acc)}  drop ${(100 * r.drop).toFixed(2)} points`,
          `one-hot, statistics re-estimated (${r.bnImages} img)  accuracy ${pct(r.discreteReestimated.acc)}  drop ${(100 * r.dropReestimated).toFixed(2)} points`,
          `genotype: ${r.repr}`,
        ].join('\n') + '\n',
      );
    });
}
