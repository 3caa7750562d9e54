/**
 * `rdarts search --space rnn …` (docs/lm.md#search): the recurrent-cell search on PTB or the
 * embedded corpus. search.ts hands over here when the space (flag or config file) is 'rnn' or
 * when --resume names a recurrent run folder. Progress and notes go to stderr, the result to stdout.
 */
import { sharingThreads } from '../thread-share.js';
import { Option, type Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { DEFAULT_RNN_CONFIG, isRnnGridMethod, resolveRnnConfig, type RnnSearchConfig } from '../../search/rnn/config.js';
import type { RnnSearchEvent, RnnSearchResult } from '../../search/rnn/trainer.js';
import { isRnnRun, readRnnRunConfig, resumeRnnGrid, resumeRnnSearch, runRnnGrid, runRnnSearch, type RnnGridResult } from '../../experiments/lm-search-run.js';
import { givenFlags, setGroup } from '../overrides.js';

/** The flags only the recurrent search reads (added to `rdarts search`). */
export function addRnnSearchOptions(cmd: Command): Command {
  const d = DEFAULT_RNN_CONFIG;
  const int = (flag: string) => (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isInteger(n)) throw new ConfigError(`${flag}: '${v}' is not an integer`);
    return n;
  };
  const num = (flag: string) => (v: string): number => {
    const n = Number(v);
    if (v.trim() === '' || !Number.isFinite(n)) throw new ConfigError(`${flag}: '${v}' is not a number`);
    return n;
  };
  return cmd
    .option('--bptt <n>', `--space rnn: BPTT length (default ${d.bptt})`, int('--bptt'))
    .option('--hidden-size <n>', `--space rnn: embedding = hidden size (default ${d.nhid})`, int('--hidden-size'))
    .option('--eval-batch-size <n>', `--space rnn: batch of the validation perplexity (default ${d.evalBatchSize})`, int('--eval-batch-size'))
    .option('--vocab-size <n>', `--space rnn, --dataset common-licenses: words kept (default ${d.vocabSize})`, int('--vocab-size'))
    .option('--dropouth <p>', `--space rnn: recurrent dropout inside the cell (default ${d.dropouth})`, num('--dropouth'))
    .addOption(new Option('--seq-len <mode>', `--space rnn: variable BPTT length (default ${d.seqLen.mode})`).choices(['halve', 'normal', 'fixed']))
    .addOption(new Option('--hvp-at <where>', `--space rnn: where the unrolled step's Hessian-vector product is taken (default ${d.hvpAt})`).choices(['unrolled', 'weights']));
}

/** The flags given, as recurrent-search overrides; CNN-only flags are refused by name. */
export function rnnOverrides(f: Record<string, unknown>): Record<string, unknown> {
  const cnnOnly: Array<[string, string]> = [
    ['spaceFile', '--space-file'], ['subset', '--subset'], ['layers', '--layers'], ['channels', '--channels'], ['dropPath', '--drop-path'], ['cutout', '--cutout'],
    ['rswsSteps', '--rsws-steps'], ['rswsSamples', '--rsws-samples'], ['rswsScoreBatches', '--rsws-score-batches'], ['rswsTopK', '--rsws-top-k'],
    ['discretization', '--discretization'], ['collapseMonitor', '--collapse-monitor'], ['collapseStop', '--collapse-stop'], ['sdarts', '--sdarts'],
    ['sdartsEpsilon', '--sdarts-epsilon'], ['s5Truth', '--s5-truth'], ['plan', '--plan'], ['workers', '--workers'],
  ];
  for (const [k, flag] of cnnOnly) if (f[k] !== undefined) throw new ConfigError(`${flag} does not apply to --space rnn`, 'docs/lm.md#search lists the recurrent search’s options');
  if (f.batchSize === 'auto') throw new ConfigError('--batch-size auto does not apply to --space rnn', 'give a number (DARTS: 256)');
  const o = givenFlags(f, ['method', 'space', 'dataset', 'dataDir', 'download', 'epochs', 'batchSize', 'order', 'hvp', 'hvpAt', 'lr', 'archLr', 'weightDecay', 'seed', 'evalBatches', 'stepsPerEpoch', 'device', 'bptt', 'evalBatchSize', 'vocabSize', 'dropouth']);
  if (f.hiddenSize !== undefined) Object.assign(o, { emsize: f.hiddenSize, nhid: f.hiddenSize });
  if (f.seqLen !== undefined) o.seqLen = { mode: f.seqLen };
  setGroup(o, 'hessian', givenFlags(f, ['hessianEvery', 'hessianMethod', 'hessianBatches', 'hessianConverge', 'hessianWarmStart'], { hessianEvery: 'every', hessianMethod: 'method', hessianBatches: 'batches', hessianConverge: 'converge', hessianWarmStart: 'warmStart' }));
  setGroup(o, 'earlyStop', givenFlags(f, ['esRule'], { esRule: 'rule' }));
  if (f.gridValues !== undefined) {
    if (f.method === 'rdarts-l2') o.grid = { l2: f.gridValues };
    else if (f.method === 'rdarts-dp') o.grid = { dropouth: f.gridValues };
    else throw new ConfigError('--grid-values needs --method rdarts-l2 or rdarts-dp', 'or set grid.l2 / grid.dropouth in a --config file');
  }
  return o;
}

/** Plain progress lines on stderr: a step line every `logEvery` steps (default: at each tenth of the epoch's rows), one per epoch, the notes. */
function progress(quiet: boolean, logEvery?: number): (e: RnnSearchEvent) => void {
  const out = (s: string) => process.stderr.write(s + '\n');
  let lastShown = -1;
  return (e) => {
    if (quiet && e.type !== 'note') return;
    if (e.type === 'start') out(`recurrent search: ${e.epochs} epochs, ${e.parameters.toLocaleString('en')} weights, ${e.alphas} α, vocabulary ${e.vocab}${e.resumedFrom !== null ? `, resumed after epoch ${e.resumedFrom}` : ''}`);
    else if (e.type === 'step') {
      const mark = logEvery ? Math.floor((e.step + 1) / logEvery) : Math.floor((10 * e.row) / e.rows);
      if (mark !== lastShown) {
        lastShown = mark;
        out(`epoch ${e.epoch} step ${e.step + 1}: row ${e.row}/${e.rows}, train loss ${e.loss.toFixed(3)} (ppl ${Math.exp(e.loss).toFixed(1)})`);
      }
    } else if (e.type === 'epoch') {
      lastShown = -1;
      out(`epoch ${e.epoch}: train ppl ${e.train.ppl.toFixed(2)}, valid ppl ${e.valid.ppl.toFixed(2)} (${e.seconds.toFixed(1)} s)  ${e.genotype}`);
    } else out(e.message);
  };
}

function printResult(r: RnnSearchResult, json: boolean | undefined): void {
  if (json) return void process.stdout.write(JSON.stringify(r) + '\n');
  process.stdout.write(
    [
      `stop reason: ${r.stopReason}${r.stopReason === 'early-stop' ? ` (genotype of epoch ${r.genotypeEpoch})` : ''}`,
      r.finalValid ? `final validation perplexity: ${r.finalValid.ppl.toFixed(2)} (loss ${r.finalValid.loss.toFixed(4)})` : '',
      `genotype: ${r.repr}`,
      r.runDir ? `run folder: ${r.runDir}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

function printGrid(r: RnnGridResult, json: boolean | undefined): void {
  if (json) return void process.stdout.write(JSON.stringify(r) + '\n');
  const lines = [`grid ${r.method} (space rnn): ${r.members.length} searches${r.complete ? '' : ' (not all finished)'}`];
  for (const m of r.members) lines.push(`  ${m.name}: ${m.status}, valid ppl ${m.finalValidPpl !== null ? m.finalValidPpl.toFixed(2) : '—'}${m.name === r.selected ? '  ← selected' : ''}`, ...(m.repr ? [`    ${m.repr}`] : []));
  lines.push(`selection: ${r.selection}${r.selected ? ` (${r.selected})` : ''}`, `run folder: ${r.root}`);
  process.stdout.write(lines.join('\n') + '\n');
}

function defaultOut(cfg: RnnSearchConfig): string {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  return `runs/${cfg.method}-rnn-${cfg.dataset}-s${cfg.seed}-${stamp}`;
}

/** Resume a recurrent run or grid folder. */
export async function resumeRnnCommand(dir: string, f: { json?: boolean; quiet?: boolean; logEvery?: number }): Promise<void> {
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery)); // its CPU share while other runs share them (docs/threads.md#sharing)
  const { cfg } = readRnnRunConfig(dir);
  if (isRnnGridMethod(cfg.method)) printGrid(await resumeRnnGrid(dir, { onEvent }), f.json);
  else printResult(await resumeRnnSearch(dir, { onEvent }), f.json);
}

/** A new recurrent search (or R-DARTS grid) from flags and an optional config file object. */
export async function rnnSearchCommand(f: Record<string, unknown> & { out?: string; json?: boolean; quiet?: boolean; logEvery?: number }, file: Record<string, unknown> | undefined, source: string): Promise<void> {
  const cfg = resolveRnnConfig(file, { ...rnnOverrides(f), space: 'rnn' }, source);
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery)); // its CPU share while other runs share them (docs/threads.md#sharing)
  const out = f.out ?? defaultOut(cfg);
  if (isRnnGridMethod(cfg.method)) printGrid(await runRnnGrid(cfg, out, { onEvent }), f.json);
  else printResult(await runRnnSearch(cfg, { out, onEvent }), f.json);
}

export { isRnnRun };
