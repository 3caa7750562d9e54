import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { DEFAULT_CONFIG, METHODS, resolveConfig, type DeepPartial, type SearchConfig } from '../../search/config.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { runSearch, resumeSearch } from '../../experiments/search-run.js';
import { searchProgress } from '../progress.js';
import { ConfigError } from '../../errors.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { SearchResult } from '../../search/trainer.js';
import { isGridMethod, isGridRun, resumeGrid, runGrid, type GridResult } from '../../experiments/grid.js';
import { sharingThreads } from '../thread-share.js';
import { autoBatchNote, formatPlan, planFromFlags } from '../plan-format.js';
import { givenFlags, setGroup, withoutAutoBatch } from '../overrides.js';
import { addRnnSearchOptions, isRnnRun, resumeRnnCommand, rnnSearchCommand } from './lm-search.js';
import { isRnnConfig } from '../../search/rnn/config.js';
import { isDispConfig } from '../../search/disp/config.js';
import { addDispSearchOptions, dispSearchCommand, isDispRun, resumeDispCommand } from './disp-search.js';

export const number = (flag: string) => (v: string): number => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag}: '${v}' is not a number`);
  return n;
};
export const integer = (flag: string) => (v: string): number => {
  const n = number(flag)(v);
  if (!Number.isInteger(n)) throw new ConfigError(`${flag}: '${v}' is not an integer`);
  return n;
};

export interface SearchFlags {
  config?: string;
  method?: string;
  space?: string;
  spaceFile?: string;
  dataset?: string;
  dataDir?: string;
  download?: boolean;
  subset?: number;
  epochs?: number;
  batchSize?: number | 'auto';
  layers?: number;
  channels?: number;
  order?: string;
  hvp?: string;
  lr?: number;
  archLr?: number;
  weightDecay?: number;
  dropPath?: number;
  cutout?: string;
  seed?: number;
  evalBatches?: number;
  stepsPerEpoch?: number;
  hessianEvery?: number;
  hessianMethod?: string;
  hessianBatches?: number;
  hessianConverge?: string;
  hessianWarmStart?: boolean;
  esRule?: string;
  gridValues?: number[];
  rswsSteps?: number;
  rswsSamples?: number;
  rswsScoreBatches?: number;
  rswsTopK?: number;
  discretization?: string;
  collapseMonitor?: string;
  collapseStop?: string;
  sdarts?: string;
  sdartsEpsilon?: number;
  s5Truth?: string;
  device?: string;
  out?: string;
  resume?: string;
  json?: boolean;
  quiet?: boolean;
  logEvery?: number;
}

/** Search options shared by `search` and `demo`. */
export function addSearchOptions(cmd: Command, d: SearchConfig = DEFAULT_CONFIG): Command {
  return cmd
    .option('--config <file>', 'YAML or JSON file with any configuration fields (flags override it)')
    .addOption(new Option('--method <name>', `search method (default ${d.method})`).choices([...METHODS]))
    .option('--space <name>', `search space: darts, s1–s4, s5 (toy), rnn (recurrent cell, docs/lm.md), s6 (disparity, docs/disparity.md) (default ${d.space})`)
    .option('--space-file <path>', 'user-defined search space (JSON or YAML)')
    .addOption(new Option('--dataset <name>', `dataset (default ${d.dataset}; ptb and common-licenses with --space rnn)`).choices(['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic', 'ptb', 'common-licenses', 'flyingthings3d', 'sintel']))
    .option('--data-dir <dir>', 'folder with the dataset files')
    .option('--download', 'download CIFAR/SVHN into --data-dir first when missing')
    .option('--subset <n>', 'use a seeded random subset of n training images', integer('--subset'))
    .option('--epochs <n>', `epochs (default ${d.epochs})`, integer('--epochs'))
    .option('--batch-size <n>', `batch size, or auto = the largest that fits --memory-limit (rdarts plan, docs/planner.md) (default ${d.batchSize})`, (v: string) => (v === 'auto' ? 'auto' : integer('--batch-size')(v)))
    .option('--layers <n>', `cells in the supernet (default ${d.layers})`, integer('--layers'))
    .option('--channels <n>', `initial channels (default ${d.channels})`, integer('--channels'))
    .addOption(new Option('--order <o>', `first- or second-order architecture gradient (default ${d.order})`).choices(['first', 'second']))
    .addOption(new Option('--hvp <kind>', `Hessian-vector product of the unrolled step (default ${d.hvp})`).choices(['finite-difference', 'exact']))
    .option('--lr <x>', `weight learning rate (default ${d.lr})`, number('--lr'))
    .option('--arch-lr <x>', `architecture learning rate (default ${d.archLr})`, number('--arch-lr'))
    .option('--weight-decay <x>', `L2 on the weights (default ${d.weightDecay})`, number('--weight-decay'))
    .option('--drop-path <p>', `maximum drop-path probability, ramped over epochs (default ${d.dropPath})`, number('--drop-path'))
    .addOption(new Option('--cutout <mode>', `cutout during search (default ${d.cutout}: on with drop path)`).choices(['auto', 'on', 'off']))
    .option('--seed <n>', `seed (default ${d.seed})`, integer('--seed'))
    .option('--eval-batches <n>', 'validation batches at each epoch end (default: the whole split)', integer('--eval-batches'))
    .option('--steps-per-epoch <n>', 'cap the weight steps per epoch (default: one pass)', integer('--steps-per-epoch'))
    .option('--hessian-every <k>', `measure the Hessian eigenvalue every k epochs, 0 = never (default ${d.hessian.every})`, integer('--hessian-every'))
    .addOption(new Option('--hessian-method <m>', `eigenvalue method (default ${d.hessian.method})`).choices(['lanczos', 'full']))
    .option('--hessian-batches <n>', 'validation batches per Hessian measurement (mean ± standard error)', integer('--hessian-batches'))
    .addOption(new Option('--hessian-converge <rule>', `Lanczos stopping: top-k = every logged eigenvalue converged, lambda-max = only λ_max (fewer products; docs/hessian.md) (default ${d.hessian.converge})`).choices(['top-k', 'lambda-max']))
    .option('--hessian-warm-start', 'start each Lanczos run from the previous measurement\'s λ_max vector (fewer products; docs/hessian.md)')
    .addOption(new Option('--es-rule <rule>', `early-stop rule for darts-es/darts-ada (default ${d.earlyStop.rule})`).choices(['code', 'paper']))
    .option('--grid-values <list>', `comma-separated values for rdarts-l2 (L2) or rdarts-dp (drop path) (default L2 ${d.grid.l2.join(',')}; DP ${d.grid.dropPath.join(',')})`, numberList('--grid-values'))
    .option('--rsws-steps <n>', 'rs-ws: weight-training steps (default epochs × steps per epoch; the reference uses int(epochs·25000/batch))', integer('--rsws-steps'))
    .option('--rsws-samples <n>', `rs-ws: random architectures scored in the selection (default ${d.rsws.samples})`, integer('--rsws-samples'))
    .option('--rsws-score-batches <n>', `rs-ws: validation batches per architecture score (default ${d.rsws.scoreBatches})`, integer('--rsws-score-batches'))
    .option('--rsws-top-k <n>', `rs-ws: best-scored architectures re-scored on the validation split (default ${d.rsws.topK})`, integer('--rsws-top-k'))
    .addOption(new Option('--discretization <when>', `measure the accuracy drop after discretisation (default ${d.analysis.discretization})`).choices(['off', 'end', 'hessian', 'every']))
    .addOption(new Option('--collapse-monitor <when>', `log the collapse indicators each epoch; auto = when λ_max is measured (default ${d.analysis.collapse})`).choices(['auto', 'on', 'off']))
    .addOption(new Option('--sdarts <mode>', 'SDARTS: rs = random smoothing, adv = adversarial (PGD) perturbation of the weight step\'s edge weights (docs/sdarts.md); with darts, darts-es, darts-ada').choices(['off', 'rs', 'adv']))
    .option('--sdarts-epsilon <x>', `SDARTS: ε at the end of its linear ramp (default ${d.sdarts.epsilon}, from ${d.sdarts.epsilonStart})`, number('--sdarts-epsilon'))
    .option('--s5-truth <file>', 'S5 ground-truth table (JSON or CSV, docs/s5.md): log the test regret of the derived genotype every epoch (--space s5)')
    .option('--collapse-stop <rule>', 'skip-count early stop, skips:K[:P]: stop (darts, darts-es) or roll back (darts-ada) when the normal cell has ≥ K skip connections (P epochs in a row), e.g. skips:2 as DARTS+')
    .option('--device <d>', `cpu, cuda or cuda:N (default ${d.device})`)
    .option('--json', 'print the result as JSON on stdout')
    .option('--quiet', 'no progress display')
    .option('--log-every <n>', 'without a TTY, print a progress line every n steps', integer('--log-every'));
}

export function flagsToOverrides(f: SearchFlags): DeepPartial<SearchConfig> {
  const o = givenFlags(withoutAutoBatch(f), ['method', 'space', 'spaceFile', 'dataset', 'dataDir', 'download', 'subset', 'epochs', 'batchSize', 'layers', 'channels', 'order', 'hvp', 'lr', 'archLr', 'weightDecay', 'dropPath', 'cutout', 'seed', 'evalBatches', 'stepsPerEpoch', 'device']);
  setGroup(o, 'hessian', givenFlags(f, ['hessianEvery', 'hessianMethod', 'hessianBatches', 'hessianConverge', 'hessianWarmStart'], { hessianEvery: 'every', hessianMethod: 'method', hessianBatches: 'batches', hessianConverge: 'converge', hessianWarmStart: 'warmStart' }));
  setGroup(o, 'earlyStop', givenFlags(f, ['esRule'], { esRule: 'rule' }));
  if (f.gridValues !== undefined) {
    if (f.method === 'rdarts-dp') o.grid = { dropPath: f.gridValues };
    else if (f.method === 'rdarts-l2') o.grid = { l2: f.gridValues };
    else throw new ConfigError('--grid-values needs --method rdarts-l2 or rdarts-dp', 'or set grid.l2 / grid.dropPath in a --config file');
  }
  setGroup(o, 'rsws', givenFlags(f, ['rswsSteps', 'rswsSamples', 'rswsScoreBatches', 'rswsTopK'], { rswsSteps: 'steps', rswsSamples: 'samples', rswsScoreBatches: 'scoreBatches', rswsTopK: 'topK' }));
  setGroup(o, 'analysis', givenFlags(f, ['discretization', 'collapseMonitor'], { collapseMonitor: 'collapse' }));
  Object.assign(o, givenFlags(f, ['collapseStop', 's5Truth']));
  setGroup(o, 'sdarts', givenFlags(f, ['sdarts', 'sdartsEpsilon'], { sdarts: 'mode', sdartsEpsilon: 'epsilon' }));
  return o as DeepPartial<SearchConfig>;
}

export function defaultOutDir(cfg: SearchConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `runs/${cfg.method}-${cfg.spaceFile ? 'custom' : cfg.space}-${cfg.dataset}-s${cfg.seed}-${stamp}`;
}

export const numberList = (flag: string) => (v: string): number[] => v.split(',').map((s) => number(flag)(s.trim()));

export function printGridResult(r: GridResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const lines = [`grid ${r.method}: ${r.members.length} searches${r.complete ? '' : ' (not all finished)'}`];
  for (const m of r.members) {
    const acc = m.finalValidAcc !== null ? `${(100 * m.finalValidAcc).toFixed(2)}%` : '—';
    const ev = m.eigenvalue ? `, λ_max mean ${m.eigenvalue.mean.toPrecision(3)} final ${m.eigenvalue.final.toPrecision(3)}` : '';
    const drop = m.discretization ? `, discretisation drop ${(100 * m.discretization.drop).toFixed(2)} pts` : '';
    lines.push(`  ${m.name}: ${m.status}, valid acc ${acc}${ev}${drop}`);
    if (m.repr) lines.push(`    ${m.repr}`);
  }
  if (r.selected) lines.push(`selection: ${r.selection} — test error ${(100 * r.selected.testError).toFixed(2)}% after the full protocol (${r.selected.dir})`);
  else lines.push(`selection: ${r.selection} — each member's cell trained briefly from scratch, the best by validation trained in full (paper-spec §7.3):`, `  ${r.selectCommand}`);
  lines.push(`run folder: ${r.root} (grid.json lists the candidates)`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function printResult(r: SearchResult, json: boolean | undefined): void {
  if (json) {
    process.stdout.write(JSON.stringify({ ...r, genotype: r.genotype }) + '\n');
    return;
  }
  process.stdout.write(
    [
      `stop reason: ${r.stopReason}${r.stopReason === 'early-stop' ? ` (genotype of epoch ${r.genotypeEpoch})` : ''}`,
      r.finalValid ? `final validation accuracy: ${(100 * r.finalValid.acc).toFixed(2)}% (loss ${r.finalValid.loss.toFixed(4)})` : '',
      `genotype: ${formatGenotypeRepr(r.genotype)}`,
      r.runDir ? `run folder: ${r.runDir}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

export function register(program: Command): void {
  const cmd = program
    .command('search')
    .description('run an architecture search (DARTS and the RobustDARTS methods); writes a resumable run folder')
    .option('--out <dir>', 'run folder (default runs/<method>-<space>-<dataset>-s<seed>-<time>)')
    .option('--resume <dir>', 'continue the run in <dir> from its last checkpoint (its config.json is used; other flags are ignored)')
    .option('--plan', 'print what the run will cost (rdarts plan) and exit without searching')
    .option('--memory-limit <size>', 'with --plan or --batch-size auto: memory limit, e.g. 8G (auto: default 80% of RAM)')
    .option('--calibration-steps <n>', 'with --plan or --batch-size auto: timed calibration steps (default 3)', integer('--calibration-steps'))
    .option('--workers <n>', 'rdarts-l2/rdarts-dp: run the grid\'s searches side by side in n worker processes, each with cores/n threads (default 1; docs/methods.md#r-darts)', integer('--workers'))
    .option('--select', 'rdarts-l2/rdarts-dp: after the searches, run the selection (rdarts select: short trainings, pick by validation, full training of the winner) in the same pool')
    .option('--select-config <file>', 'with --select: training fields of the selection (rdarts select --config)');
  addSearchOptions(cmd);
  addRnnSearchOptions(cmd);
  addDispSearchOptions(cmd);
  cmd.action(async (f: SearchFlags & { plan?: boolean; memoryLimit?: string; calibrationSteps?: number; workers?: number; select?: boolean; selectConfig?: string }) => {
    // this run's share of the CPUs while other rdarts runs share the machine; the busy-machine note otherwise (docs/threads.md)
    const onEvent = sharingThreads(searchProgress({ quiet: f.quiet ?? false, ...(f.logEvery ? { logEvery: f.logEvery } : {}) }));
    // --space rnn (flag or config file) or a recurrent run folder: the recurrent-cell search (lm-search.ts, docs/lm.md#search)
    const rnnFile = !f.resume && f.config ? readConfigFile(f.config) : undefined;
    if (f.resume ? isRnnRun(f.resume) : (f.space ?? rnnFile?.space) !== undefined && isRnnConfig({ space: f.space ?? rnnFile?.space })) {
      if (f.resume) await resumeRnnCommand(f.resume, f);
      else await rnnSearchCommand(f as unknown as Record<string, unknown>, rnnFile, f.config ?? 'flags');
      return;
    }
    // --space s6 or an S6 run folder: the disparity search (disp-search.ts, docs/disparity.md#search)
    if (f.resume ? isDispRun(f.resume) : (f.space ?? rnnFile?.space) !== undefined && isDispConfig({ space: f.space ?? rnnFile?.space })) {
      if (f.resume) await resumeDispCommand(f.resume, f);
      else await dispSearchCommand(f as unknown as Record<string, unknown>, rnnFile, f.config ?? 'flags');
      return;
    }
    if (f.workers !== undefined && f.workers < 1) throw new ConfigError(`--workers: ${f.workers} is not ≥ 1`);
    const select = f.select || f.selectConfig ? (f.selectConfig ? ['--config', resolve(f.selectConfig)] : []) : undefined;
    const grid = { onEvent, ...(f.workers !== undefined ? { workers: f.workers } : {}), ...(select ? { select } : {}) };
    const noWorkers = (what: string): void => {
      if (select) throw new ConfigError(`--select picks among the searches of an rdarts-l2 / rdarts-dp grid; ${what} is a single search`, 'run `rdarts select <search folders> --out DIR` for single searches');
      if (f.workers !== undefined) throw new ConfigError(`--workers runs the searches of an rdarts-l2 / rdarts-dp grid side by side; ${what} is a single search`, 'drop --workers, or run several searches as a study (rdarts study run --workers N, docs/studies.md)');
    };
    if (f.resume) {
      if (isGridRun(f.resume)) printGridResult(await resumeGrid(f.resume, grid), f.json);
      else {
        noWorkers(f.resume);
        printResult(await resumeSearch(f.resume, { onEvent }), f.json);
      }
      return;
    }
    let cfg = resolveConfig(f.config ? readConfigFile(f.config) : undefined, flagsToOverrides(f), f.config ?? 'flags');
    if (f.plan || f.batchSize === 'auto') {
      // the planner (docs/planner.md): a few calibration steps of this configuration
      const p = await planFromFlags(cfg, f);
      if (f.plan) {
        process.stdout.write(f.json ? JSON.stringify(p) + '\n' : formatPlan(p));
        return;
      }
      process.stderr.write(autoBatchNote(p));
      cfg = { ...cfg, batchSize: p.config.batchSize };
    }
    const out = f.out ?? defaultOutDir(cfg);
    if (isGridMethod(cfg.method)) {
      // a grid folder is continued by running the same command again (finished searches are skipped)
      printGridResult(await runGrid(cfg, out, grid), f.json);
      return;
    }
    noWorkers(`method ${cfg.method}`);
    printResult(await runSearch(cfg, { out, onEvent }), f.json);
  });
}
