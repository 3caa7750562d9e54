/**
 * Test regret on S5 (docs/s5.md, paper Figure 2): given a ground-truth table, log at every epoch
 * the regret of the derived genotype (its ground-truth test error minus the best of the table)
 * beside the one-shot validation error (1 − the supernet's validation accuracy with softmax(α)),
 * the pair that shows DARTS overfitting the validation split. RS-ws's α never moves, so for it
 * the line is written once, at the end, for the architecture its selection returns.
 * Stateless; the table comes in as data (experiments/s5-truth.ts reads the file).
 */
import { testRegret, type TruthTable } from '../../analysis/s5.js';
import type { EpochContext, SearchEndContext, SearchEndOutput, SearchPlugin } from '../plugin.js';

export class S5RegretPlugin implements SearchPlugin {
  readonly name = 's5-regret';
  constructor(
    readonly table: TruthTable,
    readonly perEpoch: boolean,
  ) {}

  onEpochEnd(ctx: EpochContext): void {
    if (!this.perEpoch || !ctx.genotype) return;
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
