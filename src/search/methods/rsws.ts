/**
 * RS-ws — random search with weight sharing (Li & Talwalkar 2019) as RobustDARTS runs it
 * (docs/methods.md#rs-ws), as a plug-in of the search trainer, so the training loop, cosine schedule,
 * clipping, checkpoints and resume are the trainer's:
 *
 * - Training: every weight step draws one architecture uniformly (`sampleArchitecture`: two
 *   distinct predecessors per node, one op per chosen edge) and the supernet's forward uses its
 *   one-hot edge weights as given (no softmax). There is no architecture step; α never changes.
 *   The sampler's generator is checkpointed, so a resumed run draws the same architectures.
 *   Budget: `rsws.steps` weight steps (null = epochs × steps per epoch; the reference's
 *   int(epochs·25000/batch) equals that on CIFAR-10).
 * - Selection (after the last epoch): draw `rsws.samples` architectures, score each by its error
 *   on `rsws.scoreBatches` validation minibatches (eval mode, shared weights, BN running
 *   statistics; the batch iterator continues across architectures and reshuffles after each pass,
 *   as the reference's `next(valid_iter)`), re-score the `rsws.topK` best on the whole validation
 *   split (at most `evalBatches` batches) and return the best re-scored one as a genotype (concat
 *   2..steps+1). Ties keep the earlier-ranked architecture. The reference does
 *   max(1, int(B/10000)) = 1 round for its budgets; one round here.
 *
 * The selection draws from generators seeded by the run's seed alone (not the training sampler),
 * so it is deterministic and a run resumed after its last epoch selects the same architecture.
 */
import { BatchLoader } from '../../data/index.js';
import type { Gene, Genotype } from '../../nas/genotype.js';
import { genotypeToJSON } from '../../nas/genotype-json.js';
import { formatGenotypeRepr } from '../../nas/repr.js';
import type { SearchSpace } from '../../nas/spaces.js';
import type { ArchWeights } from '../../nas/alpha.js';
import type { Network } from '../../nas/supernet.js';
import { sampleArchitecture, type SampledArchitecture } from './rsws-sampler.js';
import { Rng, type RngState } from '../../util/rng.js';
import { CheckpointError } from '../../errors.js';
import type { SearchEndContext, SearchEndOutput, SearchPlugin } from '../plugin.js';

/** Seed offsets (× 1000 + k, like the trainer's loaders and augmentation). */
const TRAIN_SAMPLER = 11;
const SELECT_SAMPLER = 12;
const SELECT_BATCHES = 13;

/** The genotype of a sampled architecture (genes in the order drawn; concat = all intermediate nodes). */
export function sampledGenotype(a: SampledArchitecture): Genotype {
  return {
    normal: a.normal.genotype.map(([op, j]) => [op, j] as Gene),
    normalConcat: [...a.normal.concat],
    reduce: a.reduce.genotype.map(([op, j]) => [op, j] as Gene),
    reduceConcat: [...a.reduce.concat],
  };
}

/** One-hot per-edge values of a sampled architecture (for `weightsFromValues` / `evaluate`). */
export function sampledValues(a: SampledArchitecture): { normal: number[][]; reduce: number[][] } {
  return { normal: a.normal.alphas, reduce: a.reduce.alphas };
}

export interface RsWsSelectionOptions {
  samples: number;
  scoreBatches: number;
  topK: number;
  seed: number;
}

export interface ScoredArchitecture {
  /** position among the sampled architectures (0-based, drawing order) */
  sample: number;
  genotype: Genotype;
  /** error on the `scoreBatches` minibatches */
  scoreError: number;
}

export interface RsWsSelection {
  genotype: Genotype;
  /** the top-k by score, best first, each with its error on the whole validation split */
  top: Array<ScoredArchitecture & { rank: number; fullError: number }>;
  /** index into `top` of the chosen architecture */
  chosen: number;
  samples: number;
  scoreBatches: number;
  /** images per full re-score */
  fullImages: number;
  seconds: number;
}

type Evaluator = Pick<SearchEndContext, 'evaluate' | 'validationIndices' | 'batchSize' | 'note'>;

/** The RS-ws selection phase with shared weights (see the file comment). */
export function selectArchitecture(space: SearchSpace, ev: Evaluator, o: RsWsSelectionOptions): RsWsSelection {
  const t0 = performance.now();
  const rng = new Rng(o.seed * 1000 + SELECT_SAMPLER);
  const loader = new BatchLoader(ev.validationIndices, ev.batchSize, new Rng(o.seed * 1000 + SELECT_BATCHES));
  const nextBatches = function* (k: number): Generator<Int32Array> {
    for (let i = 0; i < k; i++) yield loader.next().indices;
  };
  const scored: Array<ScoredArchitecture & { arch: SampledArchitecture }> = [];
  const noteEvery = Math.max(1, Math.ceil(o.samples / 10));
  for (let i = 0; i < o.samples; i++) {
    const arch = sampleArchitecture(space, rng);
    const r = ev.evaluate(sampledValues(arch), nextBatches(o.scoreBatches));
    scored.push({ sample: i, genotype: sampledGenotype(arch), scoreError: 1 - r.acc, arch });
    if ((i + 1) % noteEvery === 0 && i + 1 < o.samples) ev.note(`RS-ws selection: scored ${i + 1}/${o.samples} architectures`);
  }
  // stable: equal scores keep drawing order
  const ranked = [...scored].sort((a, b) => a.scoreError - b.scoreError || a.sample - b.sample).slice(0, Math.min(o.topK, scored.length));
  let fullImages = 0;
  const top = ranked.map((s, rank) => {
    const r = ev.evaluate(sampledValues(s.arch));
    fullImages = r.n;
    return { rank, sample: s.sample, genotype: s.genotype, scoreError: s.scoreError, fullError: 1 - r.acc };
  });
  let chosen = 0;
  top.forEach((t, i) => {
    if (t.fullError < top[chosen]!.fullError) chosen = i;
  });
  return { genotype: top[chosen]!.genotype, top, chosen, samples: o.samples, scoreBatches: o.scoreBatches, fullImages, seconds: (performance.now() - t0) / 1000 };
}

export interface RsWsPluginOptions extends RsWsSelectionOptions {
  /** called with every architecture drawn for a training step (tests, tracing) */
  onSample?: (a: SampledArchitecture) => void;
}

/** RS-ws as a trainer plug-in: one-hot random architecture per weight step; selection at the end. */
export class RsWsPlugin implements SearchPlugin {
  readonly name = 'rsws';
  private rng: Rng;
  /** training architectures drawn so far */
  draws = 0;
  constructor(readonly o: RsWsPluginOptions) {
    this.rng = new Rng(o.seed * 1000 + TRAIN_SAMPLER);
  }

  weightsForStep(model: Network): ArchWeights {
    const a = sampleArchitecture(model.space, this.rng);
    this.draws++;
    this.o.onSample?.(a);
    return model.weightsFromValues(sampledValues(a));
  }

  onSearchEnd(ctx: SearchEndContext): SearchEndOutput {
    ctx.note(`RS-ws selection: scoring ${this.o.samples} random architectures on ${this.o.scoreBatches} validation batches each, then the top ${this.o.topK} on the validation split`);
    const sel = selectArchitecture(ctx.model.space, ctx, this.o);
    const top = sel.top.map((t) => ({ rank: t.rank, sample: t.sample, scoreError: t.scoreError, fullError: t.fullError, repr: formatGenotypeRepr(t.genotype), genotype: genotypeToJSON(t.genotype) }));
    const best = sel.top[sel.chosen]!;
    ctx.log({
      kind: 'rsws-selection',
      epoch: ctx.epochsRun - 1,
      samples: sel.samples,
      scoreBatches: sel.scoreBatches,
      fullImages: sel.fullImages,
      trainDraws: this.draws,
      top,
      chosen: { rank: best.rank, sample: best.sample, fullError: best.fullError },
      seconds: sel.seconds,
    });
    ctx.note(`RS-ws selection: chose sample ${best.sample} (rank ${best.rank + 1} by score), validation error ${(100 * best.fullError).toFixed(2)}%`);
    return {
      genotype: sel.genotype,
      result: {
        rsws: {
          selection: { samples: sel.samples, scoreBatches: sel.scoreBatches, topK: sel.top.length, fullImages: sel.fullImages, seconds: sel.seconds },
          chosen: { rank: best.rank, sample: best.sample, scoreError: best.scoreError, fullError: best.fullError, validAcc: 1 - best.fullError },
          top: top.map(({ genotype: _g, ...t }) => t),
          trainSteps: this.draws,
        },
      },
    };
  }

  getState(): unknown {
    return { rng: this.rng.getState(), draws: this.draws };
  }

  setState(s: unknown): void {
    const st = s as { rng?: RngState; draws?: number } | null;
    if (!st || !Array.isArray(st.rng)) throw new CheckpointError('the RS-ws sampler state in the checkpoint is malformed', 'the checkpoint is corrupt; start a fresh run');
    this.rng.setState(st.rng);
    this.draws = st.draws ?? 0;
  }
}
