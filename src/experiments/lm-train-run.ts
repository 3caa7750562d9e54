/**
 * Training a recurrent cell from scratch into a run folder (docs/lm.md#training-a-recurrent-cell):
 * the genotype resolved from a published name, a DARTS repr, a genotype JSON file or a recurrent
 * search run folder; the corpus loaded; `RnnEvalTrainer` (src/search/rnn/eval-trainer.ts) writing
 * config.json, metrics.jsonl, checkpoints and result.json through the run-folder recorder, under the
 * folder's lock (a second writer is refused); `resumeLmTraining` continues from the newest intact
 * checkpoint with the configuration the run started with. Never prints (events go to `onEvent`).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { corpusFingerprint, isTextDatasetName, loadTextCorpus, TEXT_DATASETS, type TextCorpus } from '../data/index.js';
import { CheckpointError, ConfigError } from '../errors.js';
import { getPublishedRnnGenotype, listPublishedRnnGenotypes, parseRnnGenotypeRepr, rnnGenotypeFromJSON, rnnGenotypeToJSON, type RnnGenotype } from '../nas/rnn/index.js';
import { resolveRnnEvalConfig, type RnnEvalConfig } from '../search/rnn/eval-config.js';
import { RnnEvalTrainer, type RnnEvalEvent, type RnnEvalResult } from '../search/rnn/eval-trainer.js';
import { withRunLock } from './lock.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { RunFolderRecorder } from './run-recorder.js';

/** Extra run settings that are not the trainer's (the corpus). */
export interface LmTrainData {
  dataDir: string | null;
  download: boolean;
  /** common-licenses only: words kept */
  vocabSize: number | null;
}

export interface LmTrainOptions {
  onEvent?: (e: RnnEvalEvent) => void;
  /** a corpus already loaded (tests) */
  corpus?: TextCorpus;
}

/** A recurrent genotype from a published name, a DARTS repr, a JSON file/text or a recurrent search run folder. */
export function resolveRnnGenotypeSource(g: string): { genotype: RnnGenotype; source: string } {
  const s = g.trim();
  if (listPublishedRnnGenotypes().includes(s) || s === 'DARTS') return { genotype: getPublishedRnnGenotype(s), source: s };
  if (s.startsWith('Genotype(')) return { genotype: parseRnnGenotypeRepr(s, '--genotype'), source: 'repr' };
  if (s.startsWith('{')) return { genotype: rnnGenotypeFromJSON(JSON.parse(s), '--genotype'), source: 'JSON' };
  if (existsSync(s)) {
    const p = resolve(s);
    if (statSync(p).isDirectory()) {
      const r = join(p, RUN_FILES.result);
      if (!existsSync(r)) throw new ConfigError(`${p} holds no ${RUN_FILES.result}`, 'pass a finished recurrent search run folder, or wait for it to finish');
      const res = JSON.parse(readFileSync(r, 'utf8')) as { space?: unknown; genotype?: unknown; members?: unknown; selected?: unknown };
      if (res.space !== 'rnn') throw new ConfigError(`${p} is not a recurrent search run (space ${JSON.stringify(res.space)})`, 'train CNN cells without --space rnn');
      // a finished R-DARTS grid folder (rdarts-l2 / rdarts-dp): the member it selected (docs/lm.md#r-darts; studies train it)
      if (res.genotype === undefined && Array.isArray(res.members)) {
        if (typeof res.selected !== 'string') throw new ConfigError(`${p} is an R-DARTS grid that selected no member`, 'every member needs a final validation perplexity; pass one member folder (runs/<name>) instead');
        return resolveRnnGenotypeSource(join(p, RUN_FILES.members, res.selected));
      }
      return { genotype: rnnGenotypeFromJSON(res.genotype, r), source: p };
    }
    const text = readFileSync(p, 'utf8').trim();
    if (text.startsWith('Genotype(')) return { genotype: parseRnnGenotypeRepr(text, p), source: p };
    const j = JSON.parse(text) as { genotype?: unknown };
    return { genotype: rnnGenotypeFromJSON(j.genotype ?? j, p), source: p };
  }
  throw new ConfigError(`--genotype ${JSON.stringify(g)} is not a recurrent cell`, `use ${listPublishedRnnGenotypes().join(', ')}, a DARTS repr 'Genotype(recurrent=[…], concat=range(1, 9))', a genotype JSON file, or a recurrent search run folder`);
}

export async function loadLmTrainCorpus(cfg: RnnEvalConfig, data: LmTrainData): Promise<TextCorpus> {
  if (!isTextDatasetName(cfg.dataset)) throw new ConfigError(`dataset ${cfg.dataset} is not a text corpus`, `use ${TEXT_DATASETS.join(' or ')} with --space rnn`);
  return loadTextCorpus(cfg.dataset, { dataDir: data.dataDir, download: data.download, ...(data.vocabSize !== null ? { vocabSize: data.vocabSize } : {}) });
}

function trainerData(c: TextCorpus) {
  return { vocab: c.vocab, train: c.train, valid: c.valid, test: c.test, fingerprint: corpusFingerprint(c) };
}

/** Start a training in `out` (which must not hold a run), holding the folder's lock. */
export async function runLmTraining(cfg: RnnEvalConfig, data: LmTrainData, out: string, o: LmTrainOptions = {}): Promise<RnnEvalResult> {
  return withRunLock(out, { what: 'training' }, async () => {
    const runDir = new RunDir(out);
    if (runDir.exists()) throw new ConfigError(`${runDir.path} already holds a run (${RUN_FILES.config} exists)`, `continue it with --resume ${out}, or choose another --out`);
    const corpus = o.corpus ?? (await loadLmTrainCorpus(cfg, data));
    runDir.ensure();
    const trainer = new RnnEvalTrainer(cfg, trainerData(corpus), { recorder: new RunFolderRecorder(runDir), ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
    try {
      runDir.writeConfig({ space: 'rnn', ...trainer.describe(), data });
      return trainer.run();
    } finally {
      trainer.dispose();
    }
  });
}

/** Is `dir` a recurrent training run folder? */
export function isLmTrainRun(dir: string): boolean {
  const p = join(resolve(dir), RUN_FILES.config);
  if (!existsSync(p)) return false;
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { kind?: unknown }).kind === 'lm-train';
  } catch {
    return false;
  }
}

/** The configuration a training folder's config.json holds (the fields describe() adds removed). */
export function readLmTrainConfig(dir: string): { cfg: RnnEvalConfig; data: LmTrainData; fingerprint: string | null } {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  if (saved.kind !== 'lm-train') throw new ConfigError(`${runDir.path} is not a recurrent training run (kind ${JSON.stringify(saved.kind)})`);
  const { space: _s, kind: _k, repr: _r, library: _l, dataFingerprint, vocabSize: _v, trainTokens: _a, validTokens: _b, testTokens: _c, parameters: _p, parametersByFormula: _f, data, ...rest } = saved;
  const cfg = resolveRnnEvalConfig(rest as Partial<RnnEvalConfig>, runDir.file(RUN_FILES.config));
  return { cfg, data: data as LmTrainData, fingerprint: typeof dataFingerprint === 'string' ? dataFingerprint : null };
}

/** Continue the training in `dir` from its newest intact checkpoint. */
export async function resumeLmTraining(dir: string, o: LmTrainOptions = {}): Promise<RnnEvalResult> {
  return withRunLock(dir, { what: 'training' }, async () => {
    const runDir = new RunDir(dir);
    const { cfg, data, fingerprint } = readLmTrainConfig(dir);
    const recorder = new RunFolderRecorder(runDir);
    if (existsSync(runDir.file(RUN_FILES.result)) && recorder.listCheckpoints().length === 0) {
      throw new CheckpointError(`${runDir.path} has finished (${RUN_FILES.result}) and holds no checkpoint to continue from`);
    }
    const corpus = o.corpus ?? (await loadLmTrainCorpus(cfg, data));
    const fp = corpusFingerprint(corpus);
    if (fingerprint && fp !== fingerprint) throw new CheckpointError(`the corpus differs from the one this run started with (fingerprint ${fp} vs ${fingerprint})`, 'point --data-dir at the same files the run used');
    const trainer = new RnnEvalTrainer(cfg, trainerData(corpus), { recorder, ...(o.onEvent ? { onEvent: o.onEvent } : {}) });
    try {
      const from = trainer.resume((e, err) => o.onEvent?.({ type: 'note', message: `skipping checkpoint of epoch ${e}: ${err.message}` }));
      if (from === null) {
        o.onEvent?.({ type: 'note', message: 'no checkpoint yet: starting from epoch 0' });
        recorder.truncateLogs({ metrics: 0, genotypes: 0 });
      }
      return trainer.run();
    } finally {
      trainer.dispose();
    }
  });
}

export { rnnGenotypeToJSON };
