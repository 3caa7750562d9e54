/**
 * The configuration of training a recurrent cell from scratch (docs/lm.md#models): one typed object,
 * validated with messages naming the field. Pure.
 *
 * Defaults and sources (DARTS `rnn/train.py` arguments unless said otherwise):
 * | field | default | source |
 * |---|---|---|
 * | epochs | 8000 | `--epochs` (an upper limit; DARTS trains until stopped) |
 * | batchSize / evalBatchSize / testBatchSize | 64 / 10 / 1 | `--batch_size`, `eval_batch_size = 10`, `test_batch_size = 1` |
 * | bptt / seqLen | 35 / normal, maxSeqLenDelta 20 | `--bptt`, `--max_seq_len_delta`; base bptt (p 0.95) or bptt/2, then max(5, ⌊N(base, 5)⌋) capped at bptt + 20 |
 * | emsize = nhid | 850 | `--emsize`, `--nhid` |
 * | dropout / dropouth / dropoutx / dropouti / dropoute | 0.75 / 0.25 / 0.75 / 0.2 / 0.1 | `--dropout` … `--dropoute` |
 * | lr / gradClip / weightDecay | 20 / 0.25 / 8e-7 | `--lr`, `--clip`, `--wdecay` (SGD without momentum; lr × seq_len/bptt per batch) |
 * | activationReg / temporalActivationReg | 0 / 1e-3 | `--alpha` (AR), `--beta` (TAR) |
 * | nonmono | 5 | `--nonmono` (the switch to ASGD) |
 * | asgd.t0 / asgd.lambd / asgd.alpha | 0 / 0 / 0.75 | `torch.optim.ASGD(…, t0=0, lambd=0.)`, α at PyTorch's default |
 * | seed | 1267 | `--seed` |
 * | maxRollbacks | 10 | ours: DARTS rolls back to the best model after a NaN without a limit |
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { int, issueLines, num } from '../schema.js';

const dropoutP = () => num(0, 0.95);

export const RnnEvalConfigSchema = z
  .object({
    /** the cell, JSON form ({"recurrent": [["sigmoid", 0], …], "concat": [1, …]}) */
    genotype: z.object({ recurrent: z.array(z.tuple([z.string(), z.number()])), concat: z.array(z.number()) }).strict(),
    /** where the genotype came from (a published name, a file, a run folder) */
    genotypeSource: z.string(),
    dataset: z.string(),
    epochs: int(1),
    batchSize: int(1),
    evalBatchSize: int(1),
    testBatchSize: int(1),
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
    nonmono: int(1),
    asgd: z.object({ t0: num(0), lambd: num(0), alpha: num(0) }).strict(),
    seed: int(0),
    /** training steps per epoch: at most this many (null = one pass over the training stream) */
    stepsPerEpoch: int(1).nullable(),
    /** validation pass: at most this many BPTT segments (null = the whole stream) */
    evalBatches: int(1).nullable(),
    /** measure the test perplexity of the best model at the end (needs the test stream) */
    test: z.boolean(),
    maxRollbacks: int(0),
    device: z.string().regex(/^(cpu|cuda(:\d+)?)$/, "must be 'cpu', 'cuda' or 'cuda:N'"),
    keepCheckpoints: int(1),
  })
  .strict();

export type RnnEvalConfig = z.infer<typeof RnnEvalConfigSchema>;

/** Every default but the genotype (DARTS_V2 there, as `train.py --arch DARTS`). */
export const DEFAULT_RNN_EVAL_CONFIG: RnnEvalConfig = {
  genotype: {
    recurrent: [['sigmoid', 0], ['relu', 1], ['relu', 1], ['identity', 1], ['tanh', 2], ['sigmoid', 5], ['tanh', 3], ['relu', 5]],
    concat: [1, 2, 3, 4, 5, 6, 7, 8],
  },
  genotypeSource: 'DARTS_V2',
  dataset: 'ptb',
  epochs: 8000,
  batchSize: 64,
  evalBatchSize: 10,
  testBatchSize: 1,
  bptt: 35,
  seqLen: { mode: 'normal', maxSeqLenDelta: 20 },
  emsize: 850,
  nhid: 850,
  dropout: 0.75,
  dropouth: 0.25,
  dropoutx: 0.75,
  dropouti: 0.2,
  dropoute: 0.1,
  lr: 20,
  gradClip: 0.25,
  weightDecay: 8e-7,
  activationReg: 0,
  temporalActivationReg: 1e-3,
  nonmono: 5,
  asgd: { t0: 0, lambd: 0, alpha: 0.75 },
  seed: 1267,
  stepsPerEpoch: null,
  evalBatches: null,
  test: true,
  maxRollbacks: 10,
  device: 'cpu',
  keepCheckpoints: 2,
};

/** Defaults ← `partial` (shallow for the nested seqLen/asgd groups), validated. */
export function resolveRnnEvalConfig(partial: Partial<RnnEvalConfig> & { seqLen?: Partial<RnnEvalConfig['seqLen']>; asgd?: Partial<RnnEvalConfig['asgd']> } = {}, source = 'training config'): RnnEvalConfig {
  const merged = {
    ...DEFAULT_RNN_EVAL_CONFIG,
    ...partial,
    seqLen: { ...DEFAULT_RNN_EVAL_CONFIG.seqLen, ...(partial.seqLen ?? {}) },
    asgd: { ...DEFAULT_RNN_EVAL_CONFIG.asgd, ...(partial.asgd ?? {}) },
  };
  const r = RnnEvalConfigSchema.safeParse(merged);
  if (!r.success) throw new ConfigError(`${source} is not a valid recurrent training configuration:\n${issueLines(r.error)}`, 'fix the named field(s); docs/lm.md#models lists the defaults');
  const c = r.data;
  if (c.emsize !== c.nhid) throw new ConfigError(`${source}: emsize (${c.emsize}) and nhid (${c.nhid}) differ`, 'the DARTS recurrent model ties them (its decoder shares the embedding): set both to the same size');
  if (c.seqLen.mode === 'halve' && c.bptt < 2) throw new ConfigError(`${source}: bptt ${c.bptt} cannot be halved`);
  return c;
}
