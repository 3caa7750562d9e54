/**
 * The configuration of a disparity search in S6 (`space: 's6'`, docs/disparity.md#search): one
 * typed object, resolved once (defaults ← file ← flags), validated with messages naming the
 * field, written whole to config.json. Pure.
 *
 * Defaults and where they come from:
 * | field | default | source |
 * |---|---|---|
 * | network | C 18, stem ×2, feature depth 1, encoder depth 6, decoder depth 4, max displacement 40, 3 nodes | AutoDispNet nets/css/model_genotype.py (net1_args), corr_net.py |
 * | crop | 384 × 768 | DispNet's FlyingThings3D training crop (Mayer et al. 2016) |
 * | optimiser, α optimiser, epochs, grad clip | DARTS' (SGD 0.025 → 0.001 cosine, momentum 0.9; Adam 3e-4, β (0.5, 0.999), decay 1e-3; 50 epochs; clip 5) | ours: AutoDispNet's search schedule is not published in a recoverable form |
 * | weightDecay | 3e-4 | DARTS; the paper's Table 2 "L2" block raises it |
 * | augment | 0 | the paper's Table 2 "Aug." block raises it (strength, data/disparity) |
 * | order | first | ours: one unrolled step doubles a step's cost on an encoder–decoder |
 * | dataset | synthetic | the embedded procedural stereo set (FlyingThings3D cannot be downloaded here) |
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { earlyStopSchema, hessianSchema, int, issueLines, num } from '../schema.js';
import { DEFAULT_CONFIG, mergeConfig, type DeepPartial } from '../config.js';

export const DISP_METHODS = ['darts', 'darts-es'] as const;
export const DISP_DATASETS = ['synthetic', 'flyingthings3d', 'sintel'] as const;

const NetworkSchema = z
  .object({
    C: int(1),
    stemMultiplier: int(1),
    featureDepth: int(1),
    encoderDepth: int(1),
    decoderDepth: int(1),
    maxDisplacement: int(0),
    steps: int(1),
  })
  .strict();

export const DispSearchConfigSchema = z
  .object({
    space: z.literal('s6'),
    method: z.enum(DISP_METHODS),
    dataset: z.enum(DISP_DATASETS),
    /** root of FlyingThings3D / Sintel (null: the synthetic set needs none) */
    dataDir: z.string().nullable(),
    /** the synthetic stereo set */
    synthetic: z.object({ n: int(2), height: int(8), width: int(8), maxDisparity: num(0), seed: int(0) }).strict(),
    /** real data: at most this many pairs (null: all), downscaled by this integer factor when loaded */
    limit: int(1).nullable(),
    downscale: int(1),
    /** training crop [h, w] (null: the whole image); multiples of 2^(deepest scale) */
    crop: z.tuple([int(8), int(8)]).nullable(),
    /** augmentation strength of the search's batches (0 = none) */
    augment: num(0, 4),
    network: NetworkSchema,
    epochs: int(1),
    batchSize: int(1),
    lr: num(0),
    lrMin: num(0),
    momentum: num(0, 1),
    weightDecay: num(0),
    gradClip: num(0),
    order: z.enum(['first', 'second']),
    hvp: z.enum(['finite-difference', 'exact']),
    archLr: num(0),
    archBetas: z.tuple([num(0, 0.999999), num(0, 0.999999)]),
    archWeightDecay: num(0),
    trainPortion: num(0.05, 0.95),
    seed: int(0),
    stepsPerEpoch: int(1).nullable(),
    evalBatches: int(1).nullable(),
    hessian: hessianSchema(),
    earlyStop: earlyStopSchema(),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    keepCheckpoints: int(1),
  })
  .strict();

export type DispSearchConfig = z.infer<typeof DispSearchConfigSchema>;

export const DEFAULT_DISP_CONFIG: DispSearchConfig = {
  space: 's6',
  method: 'darts',
  dataset: 'synthetic',
  dataDir: null,
  synthetic: { n: 400, height: 384, width: 768, maxDisparity: 96, seed: 0 },
  limit: null,
  downscale: 1,
  crop: [384, 768],
  augment: 0,
  network: { C: 18, stemMultiplier: 2, featureDepth: 1, encoderDepth: 6, decoderDepth: 4, maxDisplacement: 40, steps: 3 },
  epochs: 50,
  batchSize: 4,
  lr: 0.025,
  lrMin: 0.001,
  momentum: 0.9,
  weightDecay: 3e-4,
  gradClip: 5,
  order: 'first',
  hvp: 'finite-difference',
  archLr: 3e-4,
  archBetas: [0.5, 0.999],
  archWeightDecay: 1e-3,
  trainPortion: 0.5,
  seed: 2,
  stepsPerEpoch: null,
  evalBatches: null,
  hessian: { ...DEFAULT_CONFIG.hessian },
  earlyStop: { ...DEFAULT_CONFIG.earlyStop },
  device: 'cpu',
  keepCheckpoints: 2,
};

/** A reduced configuration that searches in about a minute on two CPU cores (tests, demos, the mini study). */
export const MINI_DISP_OVERRIDES: DeepPartial<DispSearchConfig> = {
  synthetic: { n: 32, height: 32, width: 64, maxDisparity: 8, seed: 0 },
  crop: null,
  network: { C: 2, stemMultiplier: 1, featureDepth: 1, encoderDepth: 2, decoderDepth: 2, maxDisplacement: 2, steps: 2 },
  epochs: 4,
  batchSize: 4,
  hessian: { every: 1, lanczosIterations: 10 },
};

export function isDispConfig(raw: { space?: unknown } | undefined | null): boolean {
  return typeof raw?.space === 'string' && raw.space.trim().toLowerCase() === 's6';
}

export function validateDispConfig(raw: unknown, source = 'config'): DispSearchConfig {
  const r = DispSearchConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`${source} is not a valid disparity (space s6) search configuration:\n${issueLines(r.error)}`, 'fix the named field(s); docs/disparity.md#search lists every field and its default');
  }
  const c = r.data;
  if (c.dataset !== 'synthetic' && !c.dataDir) throw new ConfigError(`${source}: dataset ${c.dataset} needs dataDir`, 'point --data-dir at the dataset root (docs/disparity.md#data)');
  if (c.lrMin > c.lr) throw new ConfigError(`${source}: lrMin (${c.lrMin}) exceeds lr (${c.lr})`);
  return c;
}

/** Defaults ← file ← overrides, then validation. */
export function resolveDispConfig(file: Record<string, unknown> | undefined, overrides: DeepPartial<DispSearchConfig> | Record<string, unknown> | undefined, source = 'config'): DispSearchConfig {
  const merged = mergeConfig(DEFAULT_DISP_CONFIG, file, overrides as Record<string, unknown> | undefined);
  if (typeof merged.space === 'string') (merged as { space: string }).space = merged.space.trim().toLowerCase();
  return validateDispConfig(merged, source);
}

/** Hessian frequency in effect (DARTS-ES needs measurements even with hessian.every 0). */
export function dispHessianEvery(c: DispSearchConfig): number {
  if (c.hessian.every > 0) return c.hessian.every;
  return c.method === 'darts-es' ? (c.earlyStop.rule === 'code' ? 2 : 1) : 0;
}
