/**
 * The collapse monitor (docs/collapse-monitor.md): at every epoch's end, after the genotype, one `collapse` line in metrics.jsonl with
 * the indicators of ./collapse-metrics.ts (parameter-free mass, α entropy, skip counts, genotype
 * churn, train–validation accuracy gap). It needs no forward pass: softmax(α), this epoch's and
 * the previous epoch's genotype (the trainer's history, checkpointed) and the epoch's accuracies.
 * Stateless, so resume and DARTS-ADA rollbacks need nothing from it.
 */
import type { EpochContext, SearchPlugin } from '../plugin.js';
import { collapseMeasurement } from './collapse-metrics.js';

export class CollapseMonitor implements SearchPlugin {
  readonly name = 'collapse';

  onEpochEnd(ctx: EpochContext): void {
    if (!ctx.genotype) return;
    const model = ctx.model;
    const m = collapseMeasurement({
      weights: model.softmaxValues(),
      ops: { normal: model.space.normal, reduce: model.space.reduce },
      genotype: ctx.genotype,
      previous: ctx.epoch > 0 ? ctx.genotypeAt(ctx.epoch - 1) : null,
      trainAcc: ctx.train?.acc ?? null,
      validAcc: ctx.valid?.acc ?? null,
    });
    ctx.log({ kind: 'collapse', ...m });
  }
}
