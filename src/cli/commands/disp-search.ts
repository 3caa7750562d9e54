/**
 * `rdarts search --space s6 …` (docs/disparity.md#search): the disparity search (AutoDispNet-C
 * style space) on the embedded synthetic stereo set, FlyingThings3D or Sintel. search.ts hands
 * over here when the space (flag or config file) is 's6' or when --resume names an S6 run folder.
 * Progress and notes go to stderr, the result to stdout.
 */
import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { DEFAULT_DISP_CONFIG, MINI_DISP_OVERRIDES, resolveDispConfig, type DispSearchConfig } from '../../search/disp/config.js';
import type { DispSearchEvent, DispSearchResult } from '../../search/disp/trainer.js';
import { mergeConfig } from '../../search/config.js';
import { isDispRun, resumeDispSearch, runDispSearch } from '../../experiments/disp-search-run.js';
import { sharingThreads } from '../thread-share.js';
import { givenFlags, setGroup } from '../overrides.js';

/** The flags only the disparity search reads (added to `rdarts search`). */
export function addDispSearchOptions(cmd: Command): Command {
  const d = DEFAULT_DISP_CONFIG;
  const num = (flag: string) => (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag}: '${v}' is not a number`);
    return n;
  };
  return cmd
    .option('--augment <s>', `--space s6: augmentation strength of the search's batches, 0 = none (default ${d.augment})`, num('--augment'))
    .option('--mini', '--space s6: the reduced network and synthetic set that search in about a minute here (docs/disparity.md#search)');
}

/** The flags given, as disparity-search overrides; flags of other spaces are refused by name. */
export function dispOverrides(f: Record<string, unknown>): Record<string, unknown> {
  const other: Array<[string, string]> = [
    ['spaceFile', '--space-file'], ['subset', '--subset'], ['layers', '--layers'], ['dropPath', '--drop-path'], ['cutout', '--cutout'],
    ['rswsSteps', '--rsws-steps'], ['discretization', '--discretization'], ['collapseMonitor', '--collapse-monitor'], ['collapseStop', '--collapse-stop'], ['sdarts', '--sdarts'],
    ['s5Truth', '--s5-truth'], ['plan', '--plan'], ['workers', '--workers'], ['gridValues', '--grid-values'], ['bptt', '--bptt'], ['hiddenSize', '--hidden-size'], ['dropouth', '--dropouth'],
  ];
  for (const [k, flag] of other) if (f[k] !== undefined) throw new ConfigError(`${flag} does not apply to --space s6`, 'docs/disparity.md#search lists the disparity search’s options');
  if (f.batchSize === 'auto') throw new ConfigError('--batch-size auto does not apply to --space s6', 'give a number');
  const o = givenFlags(f, ['method', 'space', 'dataset', 'dataDir', 'epochs', 'batchSize', 'order', 'hvp', 'lr', 'archLr', 'weightDecay', 'seed', 'evalBatches', 'stepsPerEpoch', 'device', 'augment']);
  if (f.channels !== undefined) o.network = { C: f.channels };
  setGroup(o, 'hessian', givenFlags(f, ['hessianEvery', 'hessianMethod', 'hessianBatches', 'hessianConverge', 'hessianWarmStart'], { hessianEvery: 'every', hessianMethod: 'method', hessianBatches: 'batches', hessianConverge: 'converge', hessianWarmStart: 'warmStart' }));
  setGroup(o, 'earlyStop', givenFlags(f, ['esRule'], { esRule: 'rule' }));
  return o;
}

function progress(quiet: boolean, logEvery?: number): (e: DispSearchEvent) => void {
  const out = (s: string) => process.stderr.write(s + '\n');
  return (e) => {
    if (quiet && e.type !== 'note') return;
    if (e.type === 'start') out(`disparity search (S6): ${e.epochs} epochs × ${e.stepsPerEpoch} steps, ${e.parameters.toLocaleString('en')} weights, ${e.alphas} α${e.resumedFrom !== null ? `, resumed after epoch ${e.resumedFrom}` : ''}`);
    else if (e.type === 'step') {
      const every = logEvery ?? Math.max(1, Math.ceil(e.steps / 5));
      if ((e.step + 1) % every === 0 || e.step + 1 === e.steps) out(`epoch ${e.epoch} step ${e.step + 1}/${e.steps}: loss ${e.loss.toFixed(4)}, train EPE ${e.epe.toFixed(3)} px`);
    } else if (e.type === 'epoch') out(`epoch ${e.epoch}: train EPE ${e.train.epe.toFixed(3)}, valid EPE ${e.valid.epe.toFixed(3)} px (${e.seconds.toFixed(1)} s)  ${e.genotype}`);
    else out(e.message);
  };
}

function printResult(r: DispSearchResult, json: boolean | undefined): void {
  if (json) return void process.stdout.write(JSON.stringify(r) + '\n');
  process.stdout.write(
    [
      `stop reason: ${r.stopReason}${r.stopReason === 'early-stop' ? ` (genotype of epoch ${r.genotypeEpoch})` : ''}`,
      r.finalValid ? `final validation EPE (one-shot model): ${r.finalValid.epe.toFixed(4)} px` : '',
      `genotype: ${r.repr}`,
      r.runDir ? `run folder: ${r.runDir}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

function defaultOut(cfg: DispSearchConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `runs/${cfg.method}-s6-${cfg.dataset}-s${cfg.seed}-${stamp}`;
}

export async function resumeDispCommand(dir: string, f: { json?: boolean; quiet?: boolean; logEvery?: number }): Promise<void> {
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery));
  printResult(await resumeDispSearch(dir, { onEvent }), f.json);
}

/** A new disparity search from flags and an optional config file object. */
export async function dispSearchCommand(f: Record<string, unknown> & { out?: string; json?: boolean; quiet?: boolean; logEvery?: number; mini?: boolean }, file: Record<string, unknown> | undefined, source: string): Promise<void> {
  const base = f.mini ? mergeConfig(MINI_DISP_OVERRIDES as Record<string, unknown>, file, undefined) : file;
  const cfg = resolveDispConfig(base, { ...dispOverrides(f), space: 's6' }, source);
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery));
  printResult(await runDispSearch(cfg, { out: f.out ?? defaultOut(cfg), onEvent }), f.json);
}

export { isDispRun };
