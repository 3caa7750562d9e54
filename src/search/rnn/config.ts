/**
 * The configuration of a recurrent-cell search (`space: 'rnn'`, docs/lm.md#search): one typed
 * object, resolved once (defaults ← file ← flags), validated with messages naming the field,
 * written whole to config.json. Pure. Its own schema, apart from the CNN search's
 * (search/config.ts): the two share method names, the Hessian, early-stop and ADA groups.
 *
 * Defaults and sources (in full: docs/lm.md#defaults, docs/defaults.md#rnn-search):
 * | field | default | source |
 * |---|---|---|
 * | epochs / batchSize / bptt | 50 / 256 / 35 | DARTS rnn/train_search.py args |
 * | evalBatchSize | 10 | train_search.py `eval_batch_size = 10` |
 * | seqLen.mode / maxSeqLenDelta | halve / 20 | train_search.py: base bptt or bptt/2 (p = 0.05), its normal draw commented out; 'normal' = rnn/train.py |
 * | emsize = nhid | 300 | train_search.py |
 * | dropout / dropouth / dropoutx / dropouti / dropoute | 0.75 / 0.25 / 0.75 / 0.2 / 0 | train_search.py |
 * | lr / gradClip / weightDecay | 20 / 0.25 / 5e-7 | train_search.py (plain SGD, no momentum, constant lr scaled by seq_len/bptt per batch) |
 * | activationReg / temporalActivationReg | 0 / 1e-3 | train_search.py `--alpha`, `--beta` (AR, TAR of the weight step) |
 * | order | second | DARTS README: `python train_search.py --unrolled` for the recurrent cell |
 * | hvp / hvpAt | finite-difference / unrolled | rnn/architect.py: central difference, r = 1e-2, taken at the unrolled weights w′ |
 * | archLr / archBetas / archWeightDecay | 3e-3 / (0.9, 0.999) / 1e-3 | train_search.py `--arch_lr`, `--arch_wdecay`; architect.py leaves Adam's betas at PyTorch's default |
 * | seed | 2 | train_search.py `--seed` |
 * | hessian / earlyStop | as the CNN search | docs/hessian.md, docs/methods.md#darts-es |
 * | ada.eta / ada.l2Max | 10 / 5e-5 | the CNN script's η; R_max = 100 × the initial L2, the CNN's ratio (3e-4 → 3e-2) |
 * | grid.l2 | 5e-7 · {1, 3, 9, 27} | the CNN R-DARTS(L2) factors on the RNN's weight decay (ours) |
 * | grid.dropouth | {0.25, 0.35, 0.45, 0.55} | ours: DARTS' value and three steps of +0.1 on the cell's recurrent dropout |
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { earlyStopSchema, hessianSchema, int, issueLines, num } from '../schema.js';
import { DEFAULT_CONFIG, mergeConfig, type DeepPartial } from '../config.js';

export const RNN_METHODS = ['darts', 'darts-es', 'darts-ada', 'rdarts-l2', 'rdarts-dp'] as const;
export type RnnMethod = (typeof RNN_METHODS)[number];

export const RNN_DATASETS = ['ptb', 'common-licenses'] as const;

const dropoutP = () => num(0, 0.95);

export const RnnSearchConfigSchema = z
  .object({
    space: z.literal('rnn'),
    method: z.enum(RNN_METHODS),
    dataset: z.enum(RNN_DATASETS),
    dataDir: z.string().nullable(),
    download: z.boolean(),
    /** common-licenses only: words kept, <unk> and <eos> included */
    vocabSize: int(3),
    epochs: int(1),
    batchSize: int(1),
    evalBatchSize: int(1),
    bptt: int(2),
    seqLen: z.object({ mode: z.enum(['halve', 'normal', 'fixed']), maxSeqLenDelta: int(0) }).strict(),
    emsize: int(1),
    nhid: int(1),
    dropout: dropoutP(),
    dropouth: dropoutP(),
    dropoutx: dropoutP(),
    dropouti: dropoutP(),
    dropoute: dropoutP(),
    lr: num(0),
    gradClip: num(0),
    weightDecay: num(0),
    activationReg: num(0),
    temporalActivationReg: num(0),
    order: z.enum(['first', 'second']),
    hvp: z.enum(['finite-difference', 'exact']),
    /** where the mixed Hessian-vector product is taken: at w′ (the reference) or at w (the chain rule) */
    hvpAt: z.enum(['unrolled', 'weights']),
    archLr: num(0),
    archBetas: z.tuple([num(0, 0.999999), num(0, 0.999999)]),
    archWeightDecay: num(0),
    seed: int(0),
    /** weight steps per epoch: at most this many (null = one pass over the training stream) */
    stepsPerEpoch: int(1).nullable(),
    /** validation pass: at most this many BPTT windows (null = the whole validation stream) */
    evalBatches: int(1).nullable(),
    hessian: hessianSchema(),
    earlyStop: earlyStopSchema(),
    ada: z.object({ eta: num(1), l2Max: num(0) }).strict(),
    grid: z.object({ l2: z.array(num(0)).min(1), dropouth: z.array(dropoutP()).min(1) }).strict(),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    keepCheckpoints: int(1),
  })
  .strict();

export type RnnSearchConfig = z.infer<typeof RnnSearchConfigSchema>;

export const DEFAULT_RNN_CONFIG: RnnSearchConfig = {
  space: 'rnn',
  method: 'darts',
  dataset: 'ptb',
  dataDir: null,
  download: false,
  vocabSize: 1000,
  epochs: 50,
  batchSize: 256,
  evalBatchSize: 10,
  bptt: 35,
  seqLen: { mode: 'halve', maxSeqLenDelta: 20 },
  emsize: 300,
  nhid: 300,
  dropout: 0.75,
  dropouth: 0.25,
  dropoutx: 0.75,
  dropouti: 0.2,
  dropoute: 0,
  lr: 20,
  gradClip: 0.25,
  weightDecay: 5e-7,
  activationReg: 0,
  temporalActivationReg: 1e-3,
  order: 'second',
  hvp: 'finite-difference',
  hvpAt: 'unrolled',
  archLr: 3e-3,
  archBetas: [0.9, 0.999],
  archWeightDecay: 1e-3,
  seed: 2,
  stepsPerEpoch: null,
  evalBatches: null,
  hessian: { ...DEFAULT_CONFIG.hessian },
  earlyStop: { ...DEFAULT_CONFIG.earlyStop },
  ada: { eta: 10, l2Max: 5e-5 },
  grid: { l2: [5e-7, 1.5e-6, 4.5e-6, 1.35e-5], dropouth: [0.25, 0.35, 0.45, 0.55] },
  device: 'cpu',
  keepCheckpoints: 2,
};

/** Is this raw configuration (a file's object or flags) one of a recurrent search? */
export function isRnnConfig(raw: { space?: unknown } | undefined | null): boolean {
  return typeof raw?.space === 'string' && raw.space.trim().toLowerCase() === 'rnn';
}

export function validateRnnConfig(raw: unknown, source = 'config'): RnnSearchConfig {
  const r = RnnSearchConfigSchema.safeParse(raw);
  if (!r.success) {
    throw new ConfigError(`${source} is not a valid recurrent-cell (space rnn) search configuration:\n${issueLines(r.error)}`, 'fix the named field(s); docs/lm.md#search lists every field and its default');
  }
  const c = r.data;
  if (c.emsize !== c.nhid) throw new ConfigError(`${source}: emsize (${c.emsize}) and nhid (${c.nhid}) differ`, 'the DARTS recurrent model ties them (its decoder shares the embedding): set both to the same size');
  if (c.seqLen.mode === 'halve' && c.bptt < 2) throw new ConfigError(`${source}: bptt ${c.bptt} cannot be halved`);
  if (c.hessian.warmStart) throw new ConfigError(`${source}: hessian.warmStart is not available for the recurrent search`, 'drop --hessian-warm-start: the recurrent Hessian monitor starts each Lanczos run from a seeded random vector');
  return c;
}

/** Defaults ← file ← overrides, then validation. */
export function resolveRnnConfig(file: Record<string, unknown> | undefined, overrides: DeepPartial<RnnSearchConfig> | Record<string, unknown> | undefined, source = 'config'): RnnSearchConfig {
  const merged = mergeConfig(DEFAULT_RNN_CONFIG, file, overrides as Record<string, unknown> | undefined);
  if (typeof merged.space === 'string') (merged as { space: string }).space = merged.space.trim().toLowerCase();
  return validateRnnConfig(merged, source);
}

/** Hessian frequency in effect (ES/ADA need measurements even with hessian.every 0). */
export function rnnHessianEvery(c: RnnSearchConfig): number {
  if (c.hessian.every > 0) return c.hessian.every;
  return c.method === 'darts-es' || c.method === 'darts-ada' ? (c.earlyStop.rule === 'code' ? 2 : 1) : 0;
}

export function isRnnGridMethod(m: RnnMethod): m is 'rdarts-l2' | 'rdarts-dp' {
  return m === 'rdarts-l2' || m === 'rdarts-dp';
}
