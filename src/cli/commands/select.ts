import { Command, Option } from 'commander';
import { ConfigError } from '../../errors.js';
import { EVAL_DATASETS, type EvalSettings } from '../../search/eval-config.js';
import type { DeepPartial } from '../../search/config.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { runSelection, type SelectResult } from '../../experiments/select.js';
import { integer, number } from './search.js';
import { trainFlagsToOverrides, trainProgress, type TrainFlags } from './train.js';

interface SelectFlags extends TrainFlags {
  shortEpochs?: number;
  trainAllFull?: boolean;
}

export function printSelectResult(r: SelectResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const pct = (x: number | null): string => (x === null ? '—' : `${(100 * x).toFixed(2)}%`);
  const lines = [`selection over ${r.n} candidates (${r.tieBreak}):`];
  for (const c of r.candidates) {
    lines.push(`  ${c.name === r.selected ? '*' : ' '} ${c.name}: valid error ${pct(c.validError)} (loss ${c.validLoss.toFixed(4)}), test error of the short training ${pct(c.shortTestError)}${c.fullTestError !== null ? `, full ${pct(c.fullTestError)}` : ''}`);
  }
  lines.push(`selected: ${r.selected}`, `  ${r.selectedRepr}`);
  lines.push(`Table 3 style — selected cell, full protocol: test error ${pct(r.selectedTestError)} (${r.finalDir})`);
  lines.push(`Table 1 style — ${r.n} cells each trained once (${r.meanOver}): test error ${(100 * r.meanTestError).toFixed(2)} ± ${(100 * r.stdTestError).toFixed(2)}%`);
  lines.push(`selection folder: ${r.root}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function register(program: Command): void {
  program
    .command('select')
    .description("the paper's selection: train N candidate cells briefly on a train/validation split, pick the lowest validation error, train the winner with the full protocol; resumable")
    .argument('<candidates...>', 'search run folders, or an rdarts-l2 / rdarts-dp grid folder (its members)')
    .requiredOption('--out <dir>', 'selection folder (run the same command again to continue it)')
    .option('--config <file>', 'YAML or JSON file with training fields for both protocols (flags override it)')
    .addOption(new Option('--dataset <name>', 'dataset (default cifar10)').choices([...EVAL_DATASETS]))
    .option('--data-dir <dir>', 'folder with the dataset files')
    .option('--download', 'download CIFAR/SVHN into --data-dir first when missing')
    .option('--subset <n>', 'train on a seeded random subset of n training images', integer('--subset'))
    .option('--test-subset <n>', 'test on a seeded random subset of n test images', integer('--test-subset'))
    .option('--layers <n>', 'cells (default per dataset, as rdarts train)', integer('--layers'))
    .option('--channels <n>', 'initial channels (default per dataset)', integer('--channels'))
    .option('--batch-size <n>', 'batch size (default 96)', integer('--batch-size'))
    .option('--auxiliary', 'auxiliary head (default on)')
    .option('--no-auxiliary', 'no auxiliary head')
    .option('--short-epochs <n>', 'epochs of the selection trainings (short preset: 100)', integer('--short-epochs'))
    .option('--epochs <n>', "epochs of the winner's full training (paper preset: 600)", integer('--epochs'))
    .option('--train-portion <x>', 'fraction of the training images that train in the short trainings (default 0.8)', number('--train-portion'))
    .option('--train-all-full', 'train every candidate with the full protocol too (mean ± std over full trainings; N times the cost)')
    .option('--steps-per-epoch <n>', 'cap the steps per epoch', integer('--steps-per-epoch'))
    .option('--eval-batches <n>', 'evaluation batches per measurement', integer('--eval-batches'))
    .option('--seed <n>', 'seed of every training (default 0)', integer('--seed'))
    .option('--device <d>', 'cpu, cuda or cuda:N')
    .option('--json', 'print the result as JSON on stdout')
    .option('--quiet', 'no progress display')
    .option('--log-every <n>', 'without a TTY, print a progress line every n steps', integer('--log-every'))
    .action(async (candidates: string[], f: SelectFlags) => {
      if (!candidates.length) throw new ConfigError('no candidates given', 'pass search run folders or a grid folder');
      const { epochs, trainPortion, ...commonFlags } = f;
      const overrides = trainFlagsToOverrides(commonFlags);
      const short: DeepPartial<EvalSettings> = { ...(f.shortEpochs !== undefined ? { epochs: f.shortEpochs } : {}), ...(trainPortion !== undefined ? { trainPortion } : {}) };
      const full: DeepPartial<EvalSettings> = epochs !== undefined ? { epochs } : {};
      const progress = trainProgress({ quiet: f.quiet ?? false, ...(f.logEvery ? { logEvery: f.logEvery } : {}) });
      let current = '';
      const r = await runSelection({
        candidates,
        out: f.out!,
        common: { ...(f.config ? { file: { fields: readConfigFile(f.config), path: f.config } } : {}), overrides },
        short,
        full,
        trainAllFull: f.trainAllFull ?? false,
        onEvent: (e) => {
          if (e.candidate && e.candidate !== current && e.type === 'start') {
            current = e.candidate;
            if (!f.quiet) process.stderr.write(`== ${e.candidate}\n`);
          }
          progress(e);
        },
      });
      printSelectResult(r, f.json);
    });
}
