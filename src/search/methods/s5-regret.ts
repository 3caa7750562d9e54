/**
 * Test regret on S5 (docs/s5.md, paper Figure 2): given a ground-truth table, log at every epoch
 * the regret of the derived genotype (its ground-truth test error minus the best of the table)
 * beside the one-shot validation error (1 − the supernet's validation accuracy with softmax(α)),
 * the pair that shows DARTS overfitting the validation split. RS-ws's α never moves, so its
 * per-epoch line is for the best genotype of the space under the shared weights: each of the
 * space's genotypes (81 on S5) is scored by a validation pass with its one-hot weights (at most
 * `evalBatches` batches, so 81 passes an epoch), and the lowest error wins (the first on ties);
 * at the end one more line gives the architecture its selection returns. Stateless; the table
 * comes in as data (experiments/s5-truth.ts reads the file).
 */
import { enumerateOneNodeGenotypes, testRegret, type TruthTable } from '../../analysis/s5.js';
import type { Genotype } from '../../nas/genotype.js';
import type { EpochContext, SearchEndContext, SearchEndOutput, SearchPlugin } from '../plugin.js';

/** The genotype of `candidates` with the lowest validation error under `evaluate` (the first on ties), and that error. */
export function bestUnderSharedWeights(candidates: Genotype[], evaluate: (g: Genotype) => { acc: number }): { genotype: Genotype; error: number } {
  let best: { genotype: Genotype; error: number } | null = null;
  for (const g of candidates) {
    const error = 1 - evaluate(g).acc;
    if (best === null || error < best.error) best = { genotype: g, error };
  }
  if (!best) throw new RangeError('no genotypes to score');
  return best;
}

export class S5RegretPlugin implements SearchPlugin {
  readonly name = 's5-regret';
  constructor(
    readonly table: TruthTable,
    readonly perEpoch: boolean,
  ) {}

  onEpochEnd(ctx: EpochContext): void {
    if (!this.perEpoch) {
      const best = bestUnderSharedWeights(enumerateOneNodeGenotypes(ctx.model.space), (g) => ctx.evaluate(g));
      const r = testRegret(this.table, best.genotype);
      ctx.log({ kind: 's5-regret', source: 'shared-best', key: r?.key ?? null, testError: r?.testError ?? null, bestTestError: r?.bestTestError ?? null, regret: r?.regret ?? null, rank: r?.rank ?? null, complete: r?.complete ?? false, oneShotValidError: best.error });
      return;
    }
    if (!ctx.genotype) return;
    const r = testRegret(this.table, ctx.genotype);
    ctx.log({
      kind: 's5-regret',
      source: 'derived',
      key: r?.key ?? null,
      testError: r?.testError ?? null,
      bestTestError: r?.bestTestError ?? null,
      regret: r?.regret ?? null,
      rank: r?.rank ?? null,
      complete: r?.complete ?? false,
      oneShotValidError: ctx.valid ? 1 - ctx.valid.acc : null,
    });
  }

  onSearchEnd(ctx: SearchEndContext): SearchEndOutput | void {
    if (this.perEpoch) return;
    const r = testRegret(this.table, ctx.genotype);
    ctx.log({ kind: 's5-regret', epoch: ctx.epochsRun - 1, source: 'selected', key: r?.key ?? null, testError: r?.testError ?? null, bestTestError: r?.bestTestError ?? null, regret: r?.regret ?? null, rank: r?.rank ?? null, complete: r?.complete ?? false, oneShotValidError: null });
  }
}
