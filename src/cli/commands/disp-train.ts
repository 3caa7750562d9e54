/**
 * `rdarts train --space s6 …` (docs/disparity.md#evaluation): trains an S6 cell's evaluation
 * network from scratch into a resumable run folder and reports its test EPE (and Sintel EPE with
 * --sintel-dir). train.ts hands over here when --space is s6, the genotype is a DispGenotype or an
 * S6 search folder, or --resume names an S6 training folder. Progress to stderr, result to stdout.
 */
import { ConfigError } from '../../errors.js';
import { dispGenotypeToJSON } from '../../nas/disp/genotype.js';
import { MINI_DISP_EVAL_OVERRIDES, resolveDispEvalConfig, type DispEvalEvent, type DispEvalResult } from '../../search/disp/eval.js';
import { mergeConfig } from '../../search/config.js';
import { isDispRun } from '../../experiments/disp-search-run.js';
import { isDispTrainRun, resolveDispGenotypeSource, resumeDispTraining, runDispTraining } from '../../experiments/disp-train-run.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { sharingThreads } from '../thread-share.js';
import { givenFlags } from '../overrides.js';

/** Should `rdarts train` with these flags train an S6 cell? */
export function isDispTrainRequest(f: { space?: string; genotype?: string; resume?: string }): boolean {
  if (f.resume) return isDispTrainRun(f.resume);
  if (f.space === 's6') return true;
  return typeof f.genotype === 'string' && (/^\s*DispGenotype\s*\(/.test(f.genotype) || isDispRun(f.genotype));
}

function progress(quiet: boolean, logEvery?: number): (e: DispEvalEvent) => void {
  const out = (s: string) => process.stderr.write(s + '\n');
  return (e) => {
    if (quiet && e.type !== 'note') return;
    if (e.type === 'start') out(`S6 training: ${e.epochs} epochs × ${e.stepsPerEpoch} steps, ${e.parameters.toLocaleString('en')} weights${e.resumedFrom !== null ? `, resumed after epoch ${e.resumedFrom}` : ''}`);
    else if (e.type === 'step') {
      if (logEvery && (e.step + 1) % logEvery === 0) out(`epoch ${e.epoch} step ${e.step + 1}/${e.steps}: loss ${e.loss.toFixed(4)}, train EPE ${e.epe.toFixed(3)} px`);
    } else if (e.type === 'epoch') out(`epoch ${e.epoch}: train EPE ${e.train.epe.toFixed(3)}${e.test ? `, test EPE ${e.test.epe.toFixed(3)} px` : ''} (${e.seconds.toFixed(1)} s)`);
    else out(e.message);
  };
}

function printResult(r: DispEvalResult, json: boolean | undefined): void {
  if (json) return void process.stdout.write(JSON.stringify({ ...r, genotype: dispGenotypeToJSON(r.genotype) }) + '\n');
  process.stdout.write(
    [
      `test EPE after epoch ${r.epochs - 1}: ${r.test.epe.toFixed(4)} px (${r.test.pairs} pairs)`,
      r.sintel ? `Sintel EPE: ${r.sintel.epe.toFixed(4)} px (${r.sintel.pairs} pairs)` : '',
      `parameters: ${r.parameters.toLocaleString('en-US')} (${(r.parameters / 1e6).toFixed(3)} M)`,
      `genotype: ${r.repr}`,
      r.location ? `run folder: ${r.location}` : '',
    ]
      .filter(Boolean)
      .join('\n') + '\n',
  );
}

/** The S6 branch of `rdarts train`. */
export async function dispTrainCommand(f: Record<string, unknown> & { genotype?: string; resume?: string; out?: string; config?: string; json?: boolean; quiet?: boolean; logEvery?: number; mini?: boolean; sintelDir?: string; augment?: number }): Promise<void> {
  const onEvent = sharingThreads(progress(f.quiet ?? false, f.logEvery));
  if (f.resume) return printResult(await resumeDispTraining(f.resume, { onEvent }), f.json);
  const cnnOnly: Array<[string, string]> = [['preset', '--preset'], ['subset', '--subset'], ['testSubset', '--test-subset'], ['layers', '--layers'], ['plan', '--plan'], ['auxWeight', '--aux-weight'], ['dropPath', '--drop-path'], ['cutoutLength', '--cutout-length'], ['evaluation', '--evaluation'], ['trainPortion', '--train-portion'], ['bptt', '--bptt'], ['hiddenSize', '--hidden-size']];
  for (const [k, flag] of cnnOnly) if (f[k] !== undefined) throw new ConfigError(`${flag} does not apply to --space s6`, 'docs/disparity.md#evaluation lists the S6 training’s options');
  if (f.batchSize === 'auto') throw new ConfigError('--batch-size auto does not apply to --space s6', 'give a number');
  if (!f.genotype) throw new ConfigError('no cell given', 'pass --genotype (an S6 search run folder, a DispGenotype(...) repr or a JSON file of one)');
  const g = resolveDispGenotypeSource(f.genotype);
  // a search folder lends its network size and data (the cell is trained in the network it was searched in)
  const fromSearch: Record<string, unknown> = {};
  if (g.search) {
    for (const k of ['dataset', 'dataDir', 'limit', 'downscale', 'crop'] as const) if (g.search[k] !== undefined) fromSearch[k] = g.search[k];
    const net = g.search.network as Record<string, unknown> | undefined;
    if (net) fromSearch.network = { C: net.C, stemMultiplier: net.stemMultiplier, featureDepth: net.featureDepth, encoderDepth: net.encoderDepth, decoderDepth: net.decoderDepth, maxDisplacement: net.maxDisplacement };
    const syn = g.search.synthetic as Record<string, unknown> | undefined;
    if (syn) fromSearch.synthetic = { n: syn.n, height: syn.height, width: syn.width, maxDisparity: syn.maxDisparity, seed: syn.seed };
  }
  const o = givenFlags(f, ['dataset', 'dataDir', 'epochs', 'batchSize', 'lr', 'weightDecay', 'gradClip', 'seed', 'evalBatches', 'evalEvery', 'stepsPerEpoch', 'device', 'sintelDir', 'augment']);
  if (f.channels !== undefined) o.network = { C: f.channels };
  const file = f.config ? readConfigFile(f.config) : undefined;
  const base = mergeConfig((f.mini ? MINI_DISP_EVAL_OVERRIDES : {}) as Record<string, unknown>, fromSearch, file);
  const cfg = resolveDispEvalConfig(base, { ...o, space: 's6', genotype: dispGenotypeToJSON(g.genotype), genotypeSource: g.source, searchRun: g.searchRun }, f.config ?? 'flags');
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  const out = f.out ?? `runs/train-s6-${cfg.dataset}-s${cfg.seed}-${stamp}`;
  printResult(await runDispTraining(cfg, out, { onEvent }), f.json);
}
