/**
 * `rdarts train --space rnn …` (docs/lm.md#training-a-recurrent-cell): trains a recurrent cell's
 * evaluation model (DARTS `rnn/train.py`) into a resumable run folder. train.ts hands over here when
 * --space is rnn, the dataset is a text corpus, or --resume names a recurrent training folder.
 * Progress goes to stderr, the result to stdout.
 */
import { sharingThreads } from '../thread-share.js';
import { ConfigError } from '../../errors.js';
import { isTextDatasetName } from '../../data/index.js';
import { resolveRnnEvalConfig, type RnnEvalConfig } from '../../search/rnn/eval-config.js';
import type { RnnEvalEvent, RnnEvalResult } from '../../search/rnn/eval-trainer.js';
import { isLmTrainRun, resolveRnnGenotypeSource, resumeLmTraining, runLmTraining } from '../../experiments/lm-train-run.js';
import { rnnGenotypeToJSON } from '../../nas/rnn/index.js';
import { givenFlags } from '../overrides.js';
import { readConfigFile } from '../../experiments/config-file.js';

/** Should `rdarts train` with these flags train a recurrent cell? */
export function isLmTrainRequest(f: { space?: string; dataset?: string; resume?: string }): boolean {
  if (f.resume) return isLmTrainRun(f.resume);
  return f.space === 'rnn' || (f.dataset !== undefined && isTextDatasetName(f.dataset));
}

function progress(quiet: boolean, logEvery?: number): (e: RnnEvalEvent) => void {
  const out = (s: string) => process.stderr.write(s + '\n');
  return (e) => {
    if (quiet && e.type !== 'note') return;
    if (e.type === 'start') out(`recurrent training: ${e.epochs} epochs, ${e.parameters.toLocaleString('en')} weights${e.resumedFrom !== null ? `, resumed after epoch ${e.resumedFrom}` : ''}`);
    else if (e.type === 'step') {
      if (logEvery && (e.step + 1) % logEvery === 0) out(`epoch ${e.epoch} step ${e.step + 1}: train loss ${e.loss.toFixed(3)} (ppl ${Math.exp(e.loss).toFixed(1)}), seq_len ${e.seqLen}`);
    } else if (e.type === 'epoch') out(`epoch ${e.epoch} (${e.optimizer}): train ppl ${e.train.ppl.toFixed(2)}, valid ppl ${e.valid.ppl.toFixed(2)}${e.best ? ' (best)' : ''} (${e.seconds.toFixed(1)} s)`);
    else if (e.type === 'switch') out(`epoch ${e.epoch}: switching to ASGD (non-monotone trigger)`);
    else if (e.type === 'rollback') out(`epoch ${e.epoch}: loss ${e.loss}, rolled back to the best model; continuing at epoch ${e.toEpoch}`);
    else out(e.message);
  };
}

function printResult(r: RnnEvalResult, json: boolean | undefined): void {
  if (json) return void process.stdout.write(JSON.stringify({ ...r, genotype: rnnGenotypeToJSON(r.genotype) }) + '\n');
  process.stdout.write(
    [
      r.test ? `test perplexity of the best model (epoch ${r.bestEpoch}): ${r.test.ppl.toFixed(2)} (loss ${r.test.loss.toFixed(4)})` : '',
      r.valid ? `validation perplexity: ${r.valid.ppl.toFixed(2)}` : '',
      `epochs: ${r.epochs}${r.asgdFrom !== null ? `, ASGD from epoch ${r.asgdFrom}` : ''}, rollbacks ${r.rollbacks}`,
      `parameters: ${r.parameters.toLocaleString('en-US')}`,
      `genotype: ${r.repr}`,
      r.location ? `run folder: ${r.location}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

/** The recurrent branch of `rdarts train`. */
export async function lmTrainCommand(f: Record<string, unknown> & { genotype?: string; resume?: string; out?: string; json?: boolean; quiet?: boolean; logEvery?: number }): Promise<void> {
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery));
  if (f.resume) return printResult(await resumeLmTraining(f.resume, { onEvent }), f.json);
  const cnnOnly: Array<[string, string]> = [['preset', '--preset'], ['subset', '--subset'], ['testSubset', '--test-subset'], ['layers', '--layers'], ['channels', '--channels'], ['plan', '--plan'], ['auxiliary', '--auxiliary'], ['auxWeight', '--aux-weight'], ['dropPath', '--drop-path'], ['cutout', '--cutout'], ['cutoutLength', '--cutout-length'], ['evaluation', '--evaluation'], ['trainPortion', '--train-portion'], ['evalEvery', '--eval-every']];
  for (const [k, flag] of cnnOnly) if (f[k] !== undefined && !(k === 'cutout' && f[k] === true) && !(k === 'auxiliary' && f[k] === true)) throw new ConfigError(`${flag} does not apply to --space rnn`, 'docs/lm.md#training-a-recurrent-cell lists the recurrent training’s options');
  if (f.batchSize === 'auto') throw new ConfigError('--batch-size auto does not apply to --space rnn', 'give a number (DARTS: 64)');
  const g = resolveRnnGenotypeSource(f.genotype ?? 'DARTS_V2');
  const o = givenFlags(f, ['dataset', 'epochs', 'batchSize', 'lr', 'weightDecay', 'gradClip', 'seed', 'evalBatches', 'stepsPerEpoch', 'device', 'bptt', 'evalBatchSize']) as Partial<RnnEvalConfig>;
  if (f.hiddenSize !== undefined) Object.assign(o, { emsize: f.hiddenSize, nhid: f.hiddenSize });
  // --config: any training fields (docs/lm.md#training-a-recurrent-cell); flags override it, the genotype comes from --genotype
  const file = typeof f.config === 'string' ? (readConfigFile(f.config) as Partial<RnnEvalConfig>) : {};
  if (file.genotype !== undefined || file.genotypeSource !== undefined) throw new ConfigError(`${String(f.config)}: genotype fields do not belong in a training config`, 'name the cell with --genotype');
  const merged = { ...file, ...o, seqLen: { ...(file.seqLen ?? {}), ...(o.seqLen ?? {}) }, asgd: { ...(file.asgd ?? {}), ...(o.asgd ?? {}) } } as Parameters<typeof resolveRnnEvalConfig>[0];
  const cfg = resolveRnnEvalConfig({ ...merged, genotype: rnnGenotypeToJSON(g.genotype) as RnnEvalConfig['genotype'], genotypeSource: g.source }, typeof f.config === 'string' ? f.config : 'flags');
  const data = { dataDir: (f.dataDir as string | undefined) ?? null, download: f.download === true, vocabSize: (f.vocabSize as number | undefined) ?? null };
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const out = f.out ?? `runs/train-rnn-${cfg.dataset}-s${cfg.seed}-${stamp}`;
  printResult(await runLmTraining(cfg, data, out, { onEvent }), f.json);
}
