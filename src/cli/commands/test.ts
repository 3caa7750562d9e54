import type { Command } from 'commander';
import { EVAL_DATASETS } from '../../search/eval-config.js';
import { testTrainedRun } from '../../experiments/train-run.js';
import { integer } from './search.js';

interface TestFlags {
  dataset?: string;
  dataDir?: string;
  subset?: number;
  batchSize?: number;
  json?: boolean;
}

/** `rdarts test RUN_DIR` — the trained network of a `rdarts train` folder on a test split. */
export function register(program: Command): void {
  program
    .command('test')
    .description('evaluate the network a `rdarts train` run folder holds (model.safetensors, else its newest checkpoint) on a test split; writes nothing')
    .argument('<run-dir>', 'a folder `rdarts train` wrote')
    .option('--dataset <name>', `test dataset (default: the one it was trained on; ${EVAL_DATASETS.join(', ')})`)
    .option('--data-dir <dir>', 'folder with the dataset files (default: the run\'s)')
    .option('--subset <n>', 'a seeded random subset of n test images', integer('--subset'))
    .option('--batch-size <n>', 'batch size (default: the run\'s)', integer('--batch-size'))
    .option('--json', 'print the result as JSON on stdout')
    .action(async (dir: string, f: TestFlags) => {
      const r = await testTrainedRun(dir, {
        ...(f.dataset ? { dataset: f.dataset } : {}),
        ...(f.dataDir ? { dataDir: f.dataDir } : {}),
        ...(f.subset ? { subset: f.subset } : {}),
        ...(f.batchSize ? { batchSize: f.batchSize } : {}),
      });
      if (f.json) process.stdout.write(JSON.stringify(r) + '\n');
      else process.stdout.write(`test error on ${r.dataset}: ${(100 * r.error).toFixed(2)}% (accuracy ${(100 * r.acc).toFixed(2)}% on ${r.images} images, loss ${r.loss.toFixed(4)}; weights from ${r.weights})\n`);
    });
}
