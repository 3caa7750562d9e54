/**
 * The collapse indicators over epochs (docs/collapse-monitor.md), drawn beside λ_max: three
 * stacked panels sharing the epoch axis — parameter-free mass of softmax(α) per cell type,
 * skip connections of the derived normal cell and genotype churn, the train − validation
 * accuracy gap — and, when given, λ_max on top. Points of an iteration later discarded by a
 * DARTS-ADA rollback are faded.
 */
import { BASE_CONFIG, VEGA_LITE_SCHEMA, epochPanel, isDiscarded, iterLabel, type Rollback, type TopLevelSpec } from './style.js';

/** One epoch of the collapse monitor as the figure needs it (null = not logged). */
export interface CollapsePoint {
  epoch: number;
  iteration: number;
  paramFreeNormal: number | null;
  paramFreeReduce: number | null;
  skipsNormal: number | null;
  churn: number | null;
  /** train − validation accuracy (fraction) */
  accGap: number | null;
}

export function collapseSpec(points: CollapsePoint[], rollbacks: Rollback[] = [], eigen: Array<{ epoch: number; iteration: number; maxEigenvalue: number }> = []): TopLevelSpec {
  const multi = new Set(points.map((p) => p.iteration)).size > 1;
  const values: Array<Record<string, unknown>> = [];
  const push = (panel: string, series: string, epoch: number, iteration: number, v: number | null) => {
    if (v === null || !Number.isFinite(v)) return;
    values.push({ panel, series: multi ? `${series} · ${iterLabel(iteration)}` : series, epoch, value: v, kept: isDiscarded(epoch, iteration, rollbacks) ? 'discarded' : 'kept' });
  };
  for (const e of eigen) push('lambda', 'λ_max', e.epoch, e.iteration, e.maxEigenvalue);
  for (const p of points) {
    push('mass', 'normal cell', p.epoch, p.iteration, p.paramFreeNormal);
    push('mass', 'reduction cell', p.epoch, p.iteration, p.paramFreeReduce);
    push('counts', 'skips in normal cell', p.epoch, p.iteration, p.skipsNormal);
    push('counts', 'genes changed (both cells)', p.epoch, p.iteration, p.churn);
    push('gap', 'train − valid accuracy', p.epoch, p.iteration, p.accGap === null ? null : 100 * p.accGap);
  }
  const panel = (id: string, title: string, yTitle: string, extra: Record<string, unknown> = {}) =>
    epochPanel(id, title, yTitle, {
      height: 140,
      y: extra,
      color: { legend: { labelLimit: 0 } },
      encoding: {
        opacity: { field: 'kept', type: 'ordinal' as const, sort: ['kept', 'discarded'], scale: { domain: ['kept', 'discarded'], range: [1, 0.35] }, legend: null },
        tooltip: [
          { field: 'series', type: 'nominal' as const },
          { field: 'epoch', type: 'quantitative' as const },
          { field: 'value', type: 'quantitative' as const, format: '.4f' },
        ],
      },
    });
  const panels = [
    ...(eigen.length ? [panel('lambda', 'Dominant Hessian eigenvalue', 'λ_max', { scale: { zero: false } })] : []),
    panel('mass', 'Parameter-free mass of softmax(α) (none, noise, skip, pools; mean per edge)', 'mass', { scale: { domain: [0, 1] } }),
    panel('counts', 'Skip connections in the derived normal cell; genotype churn', 'count', { axis: { tickMinStep: 1 } }),
    panel('gap', 'Train − validation accuracy of the supernet', 'gap (points of %)'),
  ];
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'Collapse indicators', subtitle: 'per epoch, from the collapse monitor' },
    config: BASE_CONFIG,
    data: { values },
    vconcat: panels,
    resolve: { scale: { color: 'independent' } },
  } as TopLevelSpec;
}
