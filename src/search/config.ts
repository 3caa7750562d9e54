/**
 * The search configuration: one typed object, resolved once (defaults ← YAML/JSON file ← flags),
 * validated with messages that name the field, and written whole to the run's config.json.
 * Pure: reading a config file is experiments/config-file.ts.
 *
 * Defaults and where they come from (in full, with reasons: docs/defaults.md):
 * | field | default | source |
 * |---|---|---|
 * | epochs | 50 | DARTS / RobustDARTS args.py |
 * | batchSize | 64 | args.py (train and val) |
 * | layers / channels | 8 / 16 | args.py |
 * | order | second | RobustDARTS scripts pass --unrolled |
 * | lr / lrMin | 0.025 / 0.001 | args.py, cosine over `epochs` |
 * | momentum / weightDecay / gradClip | 0.9 / 3e-4 / 5 | args.py |
 * | archLr / archBetas / archWeightDecay | 3e-4 / (0.5, 0.999) / 1e-3 | args.py |
 * | trainPortion | 0.5 | args.py |
 * | dropPath (max) | 0 | DARTS default; RobustDARTS' args.py says 0.2, but its scripts pass the grid value |
 * | cutout | auto = on with drop path, same ramp | train_search.py |
 * | hessian.every | 2 | report_freq_hessian in every script |
 * | earlyStop | code rule: window 5, delta 4, factor 1.3, start epoch 10 | utils.EVLocalAvg + args |
 * | ada | η 10, R_max 0.03 | scripts/DARTS-ADA_search.sh (args.py disagrees: 3, 0.0243) |
 * | grid.l2 / grid.dropPath | 3e-4·{1,3,9,27} / {0, 0.2, 0.4, 0.6} | R-DARTS(L2)/(DP) grids, docs/methods.md#r-darts |
 * | rsws.steps | null = epochs × steps per epoch | the reference hard-codes int(epochs·25000/batch) = 19,531 (docs/methods.md#training); on CIFAR-10 (25,000 training images at portion 0.5) that is the same budget |
 * | rsws.samples / scoreBatches / topK | 1000 / 10 / 10 | randomNAS selection (docs/methods.md#selection) |
 * | analysis.discretization | end | accuracy drop after discretisation (docs/methods.md#discretisation-drop) at the last epoch; 'hessian' = also at the Hessian epochs |
 * | analysis.collapse | auto = on whenever λ_max is measured (not rs-ws) | ours (docs/collapse-monitor.md): costs no forward pass; 'auto' keeps runs without a Hessian monitor's lines as they were |
 * | sdarts.mode | off | 'rs' / 'adv' = SDARTS-RS / SDARTS-ADV (Chen & Hsieh 2020), docs/sdarts.md |
 * | sdarts.epsilon | 0.3 | SmoothDARTS train_search.py --epsilon_alpha default 0.3 (the maximum of the ramp) |
 * | sdarts.epsilonStart | 0.03 | SmoothDARTS train_search.py: ε(e) = 0.03 + (ε − 0.03)·e/epochs; confopt's SDARTSPerturbator default ε = 0.03 |
 * | sdarts.steps / randomStart | 7 / true | SmoothDARTS attacker/perturb.py Linf_PGD_alpha(steps=7, random_start=True), step size 2ε/steps; confopt the same |
 * | s5Truth | null | path of an S5 ground-truth table (docs/s5.md); set: log the test regret each epoch (space s5 only) |
 * | collapseStop | null (off); e.g. 'skips:2' | DARTS+ (Liang et al. 2019, arXiv:1909.06035) stops at ≥ 2 skip connections in the normal cell |
 */
import { z } from 'zod';
import { ConfigError } from '../errors.js';
import { int, issueLines, num, hessianSchema, earlyStopSchema } from './schema.js';

export const METHODS = ['darts', 'darts-es', 'darts-ada', 'rdarts-l2', 'rdarts-dp', 'rs-ws'] as const;
export type Method = (typeof METHODS)[number];


export const SearchConfigSchema = z
  .object({
    method: z.enum(METHODS),
    space: z.string().min(1),
    spaceFile: z.string().nullable(),
    dataset: z.enum(['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic']),
    dataDir: z.string().nullable(),
    download: z.boolean(),
    /** use only this many training images (a seeded random subset); null = all */
    subset: int(2).nullable(),
    /** synthetic dataset size and image shape (dataset 'synthetic' only) */
    synthetic: z.object({ n: int(2), channels: int(1), size: int(8), numClasses: int(2) }).strict(),
    epochs: int(1),
    batchSize: int(1),
    layers: int(3),
    channels: int(1),
    order: z.enum(['first', 'second']),
    /** Hessian-vector product of the unrolled step: the reference's finite difference, or exact double backward */
    hvp: z.enum(['finite-difference', 'exact']),
    lr: num(0),
    lrMin: num(0),
    momentum: num(0, 1),
    weightDecay: num(0),
    gradClip: num(0),
    archLr: num(0),
    archBetas: z.tuple([num(0, 0.999999), num(0, 0.999999)]),
    archWeightDecay: num(0),
    trainPortion: num(0.01, 0.99),
    /** maximum drop-path probability, ramped p(e) = dropPath·e/(E−1) */
    dropPath: num(0, 0.95),
    /** cutout during search: 'auto' = on exactly when dropPath > 0, with probability ramped 0 → 1 (reference) */
    cutout: z.enum(['auto', 'on', 'off']),
    cutoutLength: int(1),
    seed: int(0),
    /** validation pass at the end of each epoch: at most this many batches (null = the whole split) */
    evalBatches: int(1).nullable(),
    /** weight steps per epoch: at most this many (null = one pass over the training split) */
    stepsPerEpoch: int(1).nullable(),
    hessian: hessianSchema(),
    earlyStop: earlyStopSchema(),
    ada: z
      .object({
        eta: num(1),
        l2Max: num(0),
        /** weight decay of the unrolled virtual step after a rollback: 'raised' (ours) or 'initial' (the reference's quirk) */
        virtualStepL2: z.enum(['raised', 'initial']),
      })
      .strict(),
    grid: z
      .object({
        l2: z.array(num(0)).min(1),
        dropPath: z.array(num(0, 0.95)).min(1),
      })
      .strict(),
    rsws: z
      .object({
        /**
         * weight-training steps; null = epochs × steps per epoch. The reference uses
         * int(epochs·25000/batch) (19,531 for 50 epochs of 64), hard-coded even for SVHN; set it
         * here for parity. A budget that is not a multiple of the epoch length ends with a partial epoch.
         */
        steps: int(1).nullable(),
        samples: int(1),
        scoreBatches: int(1),
        topK: int(1),
      })
      .strict(),
    /** analyses run during search; a default keeps older config.json files valid */
    analysis: z
      .object({
        /** accuracy drop after discretisation (docs/methods.md#discretisation-drop): never, at the last epoch, also at the Hessian epochs, or every epoch */
        discretization: z.enum(['off', 'end', 'hessian', 'every']),
        /** the collapse monitor's line each epoch (docs/collapse-monitor.md): 'auto' = when λ_max is measured */
        collapse: z.enum(['auto', 'on', 'off']).default('auto'),
      })
      .strict()
      .default({ discretization: 'end', collapse: 'auto' }),
    /**
     * skip-count early stop, 'skips:K' or 'skips:K:P' (normal cell with ≥ K skip connections for P
     * epochs in a row): stops darts/darts-es, signals DARTS-ADA to roll back; null = off
     */
    /** SDARTS random smoothing / adversarial perturbation of the weight step's edge weights (docs/sdarts.md) */
    sdarts: z
      .object({
        mode: z.enum(['off', 'rs', 'adv']),
        epsilon: num(0, 1),
        epsilonStart: num(0, 1),
        steps: int(1),
        randomStart: z.boolean(),
      })
      .strict()
      .default({ mode: 'off', epsilon: 0.3, epsilonStart: 0.03, steps: 7, randomStart: true }),
    /** S5 ground-truth table (JSON or CSV, docs/s5.md): log the test regret of the derived genotype every epoch */
    s5Truth: z.string().min(1).nullable().default(null),
    collapseStop: z
      .string()
      .regex(/^skips:[1-9]\d*(:[1-9]\d*)?$/, "must be 'skips:K' or 'skips:K:P' (positive integers), e.g. 'skips:2'")
      .nullable()
      .default(null),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    /** keep this many epoch checkpoints (darts-ada keeps enough for its rollbacks regardless) */
    keepCheckpoints: int(1),
  })
  .strict();

export type SearchConfig = z.infer<typeof SearchConfigSchema>;

export const DEFAULT_CONFIG: SearchConfig = {
  method: 'darts',
  space: 's1',
  spaceFile: null,
  dataset: 'cifar10',
  dataDir: null,
  download: false,
  subset: null,
  synthetic: { n: 2048, channels: 3, size: 32, numClasses: 10 },
  epochs: 50,
  batchSize: 64,
  layers: 8,
  channels: 16,
  order: 'second',
  hvp: 'finite-difference',
  lr: 0.025,
  lrMin: 0.001,
  momentum: 0.9,
  weightDecay: 3e-4,
  gradClip: 5,
  archLr: 3e-4,
  archBetas: [0.5, 0.999],
  archWeightDecay: 1e-3,
  trainPortion: 0.5,
  dropPath: 0,
  cutout: 'auto',
  cutoutLength: 16,
  seed: 1,
  evalBatches: null,
  stepsPerEpoch: null,
  hessian: { every: 2, method: 'lanczos', topK: 5, batches: 1, includeWeightDecay: true, lanczosIterations: 30, lanczosTol: 1e-4, converge: 'lambda-max', warmStart: false },
  earlyStop: { rule: 'code', window: 5, delta: 4, factor: 1.3, startEpoch: 10, k: 5, threshold: 0.75 },
  ada: { eta: 10, l2Max: 0.03, virtualStepL2: 'raised' },
  grid: { l2: [3e-4, 9e-4, 2.7e-3, 8.1e-3], dropPath: [0, 0.2, 0.4, 0.6] },
  rsws: { steps: null, samples: 1000, scoreBatches: 10, topK: 10 },
  analysis: { discretization: 'end', collapse: 'auto' },
  sdarts: { mode: 'off', epsilon: 0.3, epsilonStart: 0.03, steps: 7, randomStart: true },
  s5Truth: null,
  collapseStop: null,
  device: 'cpu',
  keepCheckpoints: 2,
};

export type DeepPartial<T> = { [K in keyof T]?: T[K] extends Array<unknown> ? T[K] : T[K] extends object | null ? DeepPartial<T[K]> : T[K] };

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Deep merge of plain objects (arrays and scalars replace). */
export function mergeConfig<T>(base: T, ...layers: Array<DeepPartial<T> | Record<string, unknown> | undefined>): T {
  let out: unknown = structuredClone(base);
  for (const layer of layers) {
    if (!layer) continue;
    out = mergeInto(out, layer);
  }
  return out as T;
}

function mergeInto(a: unknown, b: unknown): unknown {
  if (!isPlainObject(a) || !isPlainObject(b)) return b === undefined ? a : structuredClone(b);
  const out: Record<string, unknown> = { ...a };
  for (const [k, v] of Object.entries(b)) {
    if (v === undefined) continue;
    out[k] = k in a ? mergeInto(a[k], v) : structuredClone(v);
  }
  return out;
}

/** Validate a fully merged config; the error names every bad field and what it must be. */
export function validateConfig(raw: unknown, source = 'config'): SearchConfig {
  const r = SearchConfigSchema.safeParse(raw);
  if (r.success) {
    const c = r.data;
    if (c.lrMin > c.lr) throw new ConfigError(`${source}: lrMin (${c.lrMin}) is larger than lr (${c.lr})`, 'lrMin is the end of the cosine schedule; it must not exceed lr');
    if (c.sdarts.mode !== 'off' && c.method === 'rs-ws') throw new ConfigError(`${source}: sdarts.mode '${c.sdarts.mode}' does not apply to rs-ws`, 'SDARTS perturbs softmax(α) in the weight step; rs-ws samples one-hot architectures instead. Use --method darts, darts-es or darts-ada');
    if (c.s5Truth !== null && (c.spaceFile !== null || c.space.trim().toLowerCase() !== 's5')) throw new ConfigError(`${source}: s5Truth is set but the space is ${c.spaceFile ?? c.space}`, 'a ground-truth table belongs to the S5 space: use --space s5, or drop --s5-truth');
    if (c.rsws.topK > c.rsws.samples) throw new ConfigError(`${source}: rsws.topK (${c.rsws.topK}) exceeds rsws.samples (${c.rsws.samples})`);
    return c;
  }
  throw new ConfigError(`${source} is not a valid search configuration:\n${issueLines(r.error)}`, 'fix the named field(s); `rdarts search --help` lists every option and its default');
}

/** Resolve defaults ← file ← overrides, then apply the method's implications, then validate. */
export function resolveConfig(file: Record<string, unknown> | undefined, overrides: DeepPartial<SearchConfig> | undefined, source = 'config'): SearchConfig {
  const merged = mergeConfig(DEFAULT_CONFIG, file, overrides as Record<string, unknown> | undefined);
  return validateConfig(merged, source);
}

/** Does this configuration measure the Hessian during search? */
export function measuresHessian(c: SearchConfig): boolean {
  return c.method === 'darts-es' || c.method === 'darts-ada' || c.hessian.every > 0;
}

/** Hessian frequency in effect (ES/ADA need measurements even if `hessian.every` is 0). */
export function hessianEvery(c: SearchConfig): number {
  if (c.hessian.every > 0) return c.hessian.every;
  return measuresHessian(c) ? (c.earlyStop.rule === 'code' ? 2 : 1) : 0;
}

/** Whether the collapse monitor runs: 'auto' = whenever λ_max is measured; never for rs-ws (its α stays uniform). */
export function collapseMonitorOn(c: SearchConfig): boolean {
  if (c.method === 'rs-ws') return false;
  const m = c.analysis.collapse;
  return m === 'on' || (m === 'auto' && hessianEvery(c) > 0);
}

/** Whether cutout is on during search, as configured. */
export function cutoutOn(c: SearchConfig): boolean {
  return c.cutout === 'on' || (c.cutout === 'auto' && c.dropPath > 0);
}
