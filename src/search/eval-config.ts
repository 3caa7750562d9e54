/**
 * The configuration of one from-scratch training of a found cell (docs/evaluation.md#the-protocol): one typed
 * object resolved once (defaults ← preset ← YAML/JSON file ← flags), validated with messages
 * that name the field, written whole to the run's config.json together with where each value
 * came from. docs/evaluation.md explains every choice.
 *
 * Defaults (the `paper` preset) and their sources:
 * | field | default | source |
 * |---|---|---|
 * | layers / channels | CIFAR-10 20 / 36; CIFAR-100, SVHN 8 / 16; others 8 / 16 | DARTS train.py (C10); RobustDARTS App. C and its eval default (C100/SVHN); ours for Fashion-MNIST/synthetic |
 * | epochs | 600 | DARTS / RobustDARTS train.py |
 * | batchSize | 96 | train.py |
 * | lr / lrMin | 0.025 / 0 | train.py: SGD, CosineAnnealingLR(epochs) with eta_min 0 |
 * | momentum / weightDecay / gradClip | 0.9 / 3e-4 / 5 | train.py |
 * | auxiliary / auxiliaryWeight | true / 0.4 | train.py (--auxiliary is passed by every published run) |
 * | cutout / cutoutLength / cutoutProb | true / 16 / 1 | train.py --cutout, utils.Cutout |
 * | dropPath | 0.2, p(e) = 0.2·e/E | train.py `drop_path_prob * epoch / epochs` |
 * | evaluation | test (the whole training set trains; test error after the last epoch) | the paper (docs/evaluation.md#the-protocol) |
 * | `short` preset | 100 epochs, held-out validation split (trainPortion 0.8) | DARTS' selection: "100 epochs on CIFAR-10"; the split size is ours |
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { int, issueLines, num } from './schema.js';
import { mergeConfig, type DeepPartial } from './config.js';

export const EVAL_DATASETS = ['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic'] as const;
export type EvalDataset = (typeof EVAL_DATASETS)[number];

const gene = z.tuple([z.string(), z.number().int()]);

export const EvalConfigSchema = z
  .object({
    /** the cell, in the genotype JSON form (checked again by genotypeFromJSON when the network is built) */
    genotype: z
      .object({ normal: z.array(gene).min(2), normalConcat: z.array(z.number().int()).min(1), reduce: z.array(gene).min(2), reduceConcat: z.array(z.number().int()).min(1) })
      .strict(),
    /** where the genotype came from (a run folder, a file, a name, a repr) — for the record */
    genotypeSource: z.string(),
    /** if set, the genotype must fit this search space (a shipped name) */
    space: z.string().min(1).nullable(),
    /** the search method that found the cell, when known (for `rdarts table`) */
    searchMethod: z.string().min(1).nullable(),
    /** the search run folder the cell came from, when it did (for \`rdarts analyze --trained\`) */
    searchRun: z.string().min(1).nullable(),
    dataset: z.enum(EVAL_DATASETS),
    dataDir: z.string().nullable(),
    download: z.boolean(),
    /** train on a seeded random subset of this many training images (null = all) */
    subset: int(2).nullable(),
    /** evaluate on a seeded random subset of this many test images (null = all) */
    testSubset: int(1).nullable(),
    synthetic: z.object({ n: int(2), testN: int(1), channels: int(1), size: int(8), numClasses: int(2) }).strict(),
    layers: int(3),
    channels: int(1),
    auxiliary: z.boolean(),
    auxiliaryWeight: num(0),
    epochs: int(1),
    batchSize: int(1),
    lr: num(0),
    lrMin: num(0),
    momentum: num(0, 1),
    weightDecay: num(0),
    gradClip: num(0),
    cutout: z.boolean(),
    cutoutLength: int(1),
    cutoutProb: num(0, 1),
    /** maximum drop-path probability: epoch e (from 0) uses dropPath·e/epochs */
    dropPath: num(0, 0.95),
    /** the split measured after each epoch: the test set, or a validation split held out of the training set */
    evaluation: z.enum(['test', 'validation']),
    /** with evaluation 'validation': the first ⌊trainPortion·n⌋ training images train, the rest validate */
    trainPortion: num(0.01, 0.99),
    /** measure the evaluation split every k epochs (and always after the last) */
    evalEvery: int(1),
    /** at most this many evaluation batches per measurement (null = the whole split) */
    evalBatches: int(1).nullable(),
    /** at most this many weight steps per epoch (null = one pass over the training images) */
    stepsPerEpoch: int(1).nullable(),
    seed: int(0),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    keepCheckpoints: int(1),
  })
  .strict();

export type EvalConfig = z.infer<typeof EvalConfigSchema>;

/** Everything but the genotype and the dataset-dependent network size. */
export type EvalSettings = Omit<EvalConfig, 'genotype' | 'genotypeSource' | 'layers' | 'channels'> & { layers: number | null; channels: number | null };

export const DEFAULT_EVAL_SETTINGS: EvalSettings = {
  space: null,
  searchMethod: null,
  searchRun: null,
  dataset: 'cifar10',
  dataDir: null,
  download: false,
  subset: null,
  testSubset: null,
  synthetic: { n: 2048, testN: 512, channels: 3, size: 32, numClasses: 10 },
  layers: null,
  channels: null,
  auxiliary: true,
  auxiliaryWeight: 0.4,
  epochs: 600,
  batchSize: 96,
  lr: 0.025,
  lrMin: 0,
  momentum: 0.9,
  weightDecay: 3e-4,
  gradClip: 5,
  cutout: true,
  cutoutLength: 16,
  cutoutProb: 1,
  dropPath: 0.2,
  evaluation: 'test',
  trainPortion: 0.8,
  evalEvery: 1,
  evalBatches: null,
  stepsPerEpoch: null,
  seed: 0,
  device: 'cpu',
  keepCheckpoints: 2,
};

/** The evaluation network's size per dataset (docs/evaluation.md#the-protocol). */
export const PAPER_NETWORK_SIZE: Record<EvalDataset, { layers: number; channels: number; source: string }> = {
  cifar10: { layers: 20, channels: 36, source: 'DARTS train.py (CIFAR-10)' },
  cifar100: { layers: 8, channels: 16, source: 'RobustDARTS App. C (S1–S4 benchmarks)' },
  svhn: { layers: 8, channels: 16, source: 'RobustDARTS App. C (S1–S4 benchmarks)' },
  'fashion-mnist': { layers: 8, channels: 16, source: 'ours (the small setting of App. C)' },
  synthetic: { layers: 8, channels: 16, source: 'ours (the small setting of App. C)' },
};

export interface EvalPreset {
  description: string;
  settings: DeepPartial<EvalSettings>;
}

/** Named presets, listed by `rdarts train --help`. */
export const EVAL_PRESETS: Record<string, EvalPreset> = {
  paper: { description: 'the paper protocol: 600 epochs on the whole training set, test error after the last epoch (§9)', settings: {} },
  short: {
    description: 'selection: 100 epochs, validation error on a held-out 20% of the training set (DARTS picks its best of 4 cells this way)',
    settings: { epochs: 100, evaluation: 'validation' },
  },
};

export function listEvalPresets(): string[] {
  return Object.keys(EVAL_PRESETS);
}

export function getEvalPreset(name: string): EvalPreset {
  const p = EVAL_PRESETS[name];
  if (!p) throw new ConfigError(`unknown preset '${name}'`, `known presets: ${listEvalPresets().join(', ')}`);
  return p;
}

/** Where each resolved field came from: 'default', 'dataset default', 'preset <name>', a file path, or 'flag'. */
export type EvalOrigins = Record<string, string>;

export interface ResolvedEvalConfig {
  config: EvalConfig;
  origins: EvalOrigins;
}

function flatKeys(o: unknown, prefix = ''): string[] {
  if (typeof o !== 'object' || o === null || Array.isArray(o)) return prefix ? [prefix] : [];
  const out: string[] = [];
  for (const [k, v] of Object.entries(o as Record<string, unknown>)) {
    if (v === undefined) continue;
    const p = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && v !== null && !Array.isArray(v) && k !== 'genotype') out.push(...flatKeys(v, p));
    else out.push(p);
  }
  return out;
}

/** Validate a fully merged config; the error names every bad field and what it must be. */
export function validateEvalConfig(raw: unknown, source = 'config'): EvalConfig {
  const r = EvalConfigSchema.safeParse(raw);
  if (r.success) {
    const c = r.data;
    if (c.lrMin > c.lr) throw new ConfigError(`${source}: lrMin (${c.lrMin}) is larger than lr (${c.lr})`, 'lrMin is the end of the cosine schedule; it must not exceed lr');
    return c;
  }
  throw new ConfigError(`${source} is not a valid training configuration:\n${issueLines(r.error)}`, 'fix the named field(s); `rdarts train --help` lists every option and its default');
}

export interface EvalLayers {
  preset?: string;
  /** fields read from a config file, and the file's name */
  file?: { fields: Record<string, unknown>; path: string };
  /** fields set by flags (or by a caller such as select) */
  overrides?: DeepPartial<EvalSettings>;
  /** label of the overrides in `origins` (default 'flag') */
  overridesLabel?: string;
}

/**
 * Resolve defaults ← preset ← file ← overrides, fill the dataset's network size when none was
 * given, attach the genotype and validate. Returns the config and each field's origin.
 */
export function resolveEvalConfig(genotype: { genotype: EvalConfig['genotype']; source: string }, layers: EvalLayers = {}): ResolvedEvalConfig {
  const presetName = layers.preset ?? 'paper';
  const preset = getEvalPreset(presetName);
  const fileFields = layers.file?.fields;
  if (fileFields && ('genotype' in fileFields || 'genotypeSource' in fileFields)) {
    throw new ConfigError(`${layers.file!.path}: 'genotype' cannot be set in a config file`, 'pass the cell with --genotype');
  }
  const stack: Array<[string, Record<string, unknown> | undefined]> = [
    [`preset ${presetName}`, preset.settings as Record<string, unknown>],
    [layers.file?.path ?? 'file', fileFields],
    [layers.overridesLabel ?? 'flag', layers.overrides as Record<string, unknown> | undefined],
  ];
  const origins: EvalOrigins = {};
  for (const k of flatKeys(DEFAULT_EVAL_SETTINGS)) origins[k] = 'default';
  for (const [label, l] of stack) for (const k of flatKeys(l)) origins[k] = label;
  const merged = mergeConfig(DEFAULT_EVAL_SETTINGS, ...stack.map(([, l]) => l)) as EvalSettings;
  const size = (EVAL_DATASETS as readonly string[]).includes(merged.dataset) ? PAPER_NETWORK_SIZE[merged.dataset] : null;
  if (merged.layers === null && size) {
    merged.layers = size.layers;
    origins.layers = `dataset default (${size.source})`;
  }
  if (merged.channels === null && size) {
    merged.channels = size.channels;
    origins.channels = `dataset default (${size.source})`;
  }
  origins.genotype = genotype.source;
  const config = validateEvalConfig({ ...merged, genotype: genotype.genotype, genotypeSource: genotype.source }, layers.file?.path ?? (layers.overrides ? 'flags' : 'config'));
  return { config, origins };
}
