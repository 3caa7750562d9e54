import { Command, Option } from 'commander';
import { sharingThreads } from '../thread-share.js';
import { ConfigError } from '../../errors.js';
import type { DeepPartial } from '../../search/config.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { DEFAULT_EVAL_SETTINGS, EVAL_DATASETS, EVAL_PRESETS, PAPER_NETWORK_SIZE, resolveEvalConfig, type EvalSettings } from '../../search/eval-config.js';
import type { EvalTrainResult } from '../../search/eval-trainer.js';
import { resolveGenotypeSource } from '../../experiments/genotype-source.js';
import { resumeTraining, runTraining } from '../../experiments/train-run.js';
import { autoBatchNote, formatTrainPlan, trainPlanFromFlags } from '../plan-format.js';
import { trainProgress } from '../progress.js';
import { integer, number } from './search.js';
import { givenFlags, withoutAutoBatch } from '../overrides.js';
import { isLmTrainRequest, lmTrainCommand } from './lm-train.js';
import { dispTrainCommand, isDispTrainRequest } from './disp-train.js';

export interface TrainFlags {
  genotype?: string;
  preset?: string;
  config?: string;
  space?: string;
  dataset?: string;
  dataDir?: string;
  download?: boolean;
  subset?: number;
  testSubset?: number;
  layers?: number;
  channels?: number;
  epochs?: number;
  batchSize?: number | 'auto';
  plan?: boolean;
  memoryLimit?: string;
  calibrationSteps?: number;
  auxiliary?: boolean;
  auxWeight?: number;
  lr?: number;
  weightDecay?: number;
  gradClip?: number;
  dropPath?: number;
  cutout?: boolean;
  cutoutLength?: number;
  evaluation?: string;
  trainPortion?: number;
  evalEvery?: number;
  evalBatches?: number;
  stepsPerEpoch?: number;
  seed?: number;
  device?: string;
  out?: string;
  resume?: string;
  json?: boolean;
  quiet?: boolean;
  logEvery?: number;
}

export function trainFlagsToOverrides(f: TrainFlags): DeepPartial<EvalSettings> {
  const keys = ['space', 'dataset', 'dataDir', 'download', 'subset', 'testSubset', 'layers', 'channels', 'epochs', 'batchSize', 'auxiliary', 'auxWeight', 'lr', 'weightDecay', 'gradClip', 'dropPath', 'cutout', 'cutoutLength', 'evaluation', 'trainPortion', 'evalEvery', 'evalBatches', 'stepsPerEpoch', 'seed', 'device'] as const;
  return givenFlags(withoutAutoBatch(f), keys, { auxWeight: 'auxiliaryWeight' }) as DeepPartial<EvalSettings>;
}

/** The progress display of a training lives beside the search's in ../progress.ts. */
export { trainProgress };

export function printTrainResult(r: EvalTrainResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  process.stdout.write(
    [
      `${r.split} error after the last epoch (${r.epochs}): ${pct(r.error)} (accuracy ${pct(r.final.acc)} on ${r.final.images} images, loss ${r.final.loss.toFixed(4)})`,
      `parameters: ${r.parameters.toLocaleString('en-US')} (${r.parametersWithAux.toLocaleString('en-US')} with the auxiliary head)`,
      `wall time: ${r.wallSeconds.toFixed(1)} s`,
      `genotype: ${r.repr}`,
      r.location ? `run folder: ${r.location} (weights in model.safetensors)` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

function defaultOut(dataset: string, seed: number): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `runs/train-${dataset}-s${seed}-${stamp}`;
}

const d = DEFAULT_EVAL_SETTINGS;

export function register(program: Command): void {
  const presets = Object.entries(EVAL_PRESETS)
    .map(([k, p]) => `  ${k}: ${p.description}`)
    .join('\n');
  const sizes = Object.entries(PAPER_NETWORK_SIZE)
    .map(([k, s]) => `${k} ${s.layers}/${s.channels}`)
    .join(', ');
  program
    .command('train')
    .description('train a cell from scratch (the evaluation network) with the paper protocol; writes a resumable run folder and model.safetensors')
    .option('--genotype <g>', 'the cell: DARTS_V1/DARTS_V2, a DARTS repr, genotype JSON, a search run folder, a genotype/result JSON file, or results_arch.yaml#s1_cifar10/0.0_0.0003/1')
    .addOption(new Option('--preset <name>', 'named settings under the config file and flags (default paper)').choices(Object.keys(EVAL_PRESETS)))
    .option('--config <file>', 'YAML or JSON file with any training fields (flags override it)')
    .option('--space <name>', 'check that the genotype fits this search space (a run folder or results_arch entry sets it); rnn or s6 train a recurrent or disparity cell')
    .addOption(new Option('--dataset <name>', `dataset (default ${d.dataset})`).choices([...EVAL_DATASETS, 'ptb', 'common-licenses', 'flyingthings3d', 'sintel']))
    .option('--data-dir <dir>', 'folder with the dataset files')
    .option('--download', 'download CIFAR/SVHN into --data-dir first when missing')
    .option('--subset <n>', 'train on a seeded random subset of n training images', integer('--subset'))
    .option('--test-subset <n>', 'evaluate on a seeded random subset of n test images', integer('--test-subset'))
    .option('--layers <n>', `cells (default per dataset: ${sizes})`, integer('--layers'))
    .option('--channels <n>', 'initial channels (default per dataset, see --layers)', integer('--channels'))
    .option('--epochs <n>', `epochs (default ${d.epochs})`, integer('--epochs'))
    .option('--batch-size <n>', `batch size, or auto = the largest that fits --memory-limit (docs/planner.md) (default ${d.batchSize})`, (v: string) => (v === 'auto' ? 'auto' : integer('--batch-size')(v)))
    .option('--plan', 'print what the training will cost (step, epoch and total time, peak memory) and exit without training')
    .option('--memory-limit <size>', 'with --plan or --batch-size auto: memory limit, e.g. 8G (auto: default 80% of RAM)')
    .option('--calibration-steps <n>', 'with --plan: timed calibration steps (default 3)', integer('--calibration-steps'))
    .option('--auxiliary', `auxiliary head after cell ⌊2·layers/3⌋ (default ${d.auxiliary ? 'on' : 'off'})`)
    .option('--no-auxiliary', 'no auxiliary head')
    .option('--aux-weight <w>', `weight of the auxiliary loss (default ${d.auxiliaryWeight})`, number('--aux-weight'))
    .option('--lr <x>', `initial learning rate, cosine to 0 (default ${d.lr})`, number('--lr'))
    .option('--weight-decay <x>', `weight decay (default ${d.weightDecay})`, number('--weight-decay'))
    .option('--grad-clip <x>', `gradient norm clip (default ${d.gradClip})`, number('--grad-clip'))
    .option('--drop-path <p>', `maximum drop-path probability, p(e) = p·e/E (default ${d.dropPath})`, number('--drop-path'))
    .option('--cutout', 'cutout on (default on)')
    .option('--no-cutout', 'cutout off')
    .option('--cutout-length <n>', `cutout square side (default ${d.cutoutLength})`, integer('--cutout-length'))
    .addOption(new Option('--evaluation <split>', `split measured after each epoch (default ${d.evaluation})`).choices(['test', 'validation']))
    .option('--train-portion <x>', `with --evaluation validation: fraction of the training images that train (default ${d.trainPortion})`, number('--train-portion'))
    .option('--eval-every <k>', 'measure the evaluation split every k epochs and after the last (default 1)', integer('--eval-every'))
    .option('--eval-batches <n>', 'evaluation batches per measurement (default: the whole split)', integer('--eval-batches'))
    .option('--steps-per-epoch <n>', 'cap the steps per epoch (default: one pass)', integer('--steps-per-epoch'))
    .option('--seed <n>', `seed (default ${d.seed})`, integer('--seed'))
    .option('--device <d>', `cpu, cuda or cuda:N (default ${d.device})`)
    .option('--out <dir>', 'run folder (default runs/train-<dataset>-s<seed>-<time>)')
    .option('--resume <dir>', 'continue the training in <dir> from its last checkpoint (its config.json is used; other flags are ignored)')
    .option('--bptt <n>', '--space rnn: BPTT length (default 35)', integer('--bptt'))
    .option('--hidden-size <n>', '--space rnn: embedding = hidden size (default 850)', integer('--hidden-size'))
    .option('--vocab-size <n>', '--space rnn, --dataset common-licenses: words kept (default 1000)', integer('--vocab-size'))
    .option('--mini', '--space s6: the reduced network and synthetic set of `rdarts search --space s6 --mini`')
    .option('--sintel-dir <dir>', '--space s6: MPI Sintel stereo root; its EPE is reported beside the test split\'s')
    .option('--augment <s>', '--space s6: augmentation strength of the training crops (default 1)', number('--augment'))
    .option('--json', 'print the result as JSON on stdout')
    .option('--quiet', 'no progress display')
    .option('--log-every <n>', 'without a TTY, print a progress line every n steps', integer('--log-every'))
    .addHelpText('after', `\nPresets:\n${presets}\n\nThe number reported is the test error after the last epoch (no best-epoch picking). See docs/evaluation.md.`)
    .action(async (f: TrainFlags) => {
      if (isLmTrainRequest(f)) return lmTrainCommand(f as unknown as Record<string, unknown>); // docs/lm.md#training-a-recurrent-cell
      if (isDispTrainRequest(f)) return dispTrainCommand(f as unknown as Record<string, unknown>); // docs/disparity.md#evaluation
      const onEvent = sharingThreads(trainProgress({ quiet: f.quiet ?? false, ...(f.logEvery ? { logEvery: f.logEvery } : {}) }));
      if (f.resume) {
        printTrainResult(await resumeTraining(f.resume, { onEvent }), f.json);
        return;
      }
      if (!f.genotype) throw new ConfigError('no cell given', 'pass --genotype (e.g. DARTS_V2, a search run folder, or a genotype JSON file), or --resume DIR');
      const g = resolveGenotypeSource(f.genotype);
      const overrides = trainFlagsToOverrides(f);
      if (overrides.space === undefined && g.space) overrides.space = g.space;
      if (g.method) overrides.searchMethod = g.method;
      if (g.runDir) overrides.searchRun = g.runDir;
      const file = f.config ? { fields: readConfigFile(f.config), path: f.config } : undefined;
      const { config, origins } = resolveEvalConfig(
        { genotype: { normal: g.genotype.normal, normalConcat: g.genotype.normalConcat, reduce: g.genotype.reduce, reduceConcat: g.genotype.reduceConcat }, source: g.source },
        { ...(f.preset ? { preset: f.preset } : {}), ...(file ? { file } : {}), overrides },
      );
      if (f.space === undefined && g.space && origins.space === 'flag') origins.space = `the genotype's source (${g.source})`;
      if (g.method && origins.searchMethod === 'flag') origins.searchMethod = `the genotype's source (${g.source})`;
      if (g.runDir && origins.searchRun === 'flag') origins.searchRun = `the genotype's source (${g.source})`;
      if (f.plan || f.batchSize === 'auto') {
        const p = await trainPlanFromFlags(config, f);
        if (f.plan) {
          process.stdout.write(f.json ? JSON.stringify(p) + '\n' : formatTrainPlan(p));
          return;
        }
        process.stderr.write(autoBatchNote(p));
        config.batchSize = p.config.batchSize;
        origins.batchSize = 'flag';
      }
      const out = f.out ?? defaultOut(config.dataset, config.seed);
      printTrainResult(await runTraining(config, origins, { out, onEvent }), f.json);
    });
}
