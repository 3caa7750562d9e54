/**
 * The paper's Figure 2 for one run (docs/s5.md): the test regret of the derived genotype and the
 * one-shot validation error over epochs, two stacked panels sharing the epoch axis.
 */
import { BASE_CONFIG, VEGA_LITE_SCHEMA, epochPanel, type TopLevelSpec } from './style.js';

export interface RegretPoint {
  epoch: number;
  regret: number | null;
  oneShotValidError: number | null;
}

export function s5RegretSpec(points: RegretPoint[], label = 'this run'): TopLevelSpec {
  const values: Array<Record<string, unknown>> = [];
  for (const p of points) {
    if (p.regret !== null && Number.isFinite(p.regret)) values.push({ panel: 'regret', series: label, epoch: p.epoch, value: 100 * p.regret });
    if (p.oneShotValidError !== null && Number.isFinite(p.oneShotValidError)) values.push({ panel: 'valid', series: label, epoch: p.epoch, value: 100 * p.oneShotValidError });
  }
  const panel = (id: string, title: string, yTitle: string) => epochPanel(id, title, yTitle, { height: 160, y: { scale: { zero: false } } });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'S5: test regret and one-shot validation error', subtitle: 'regret = ground-truth test error of the derived genotype − best of the 81' },
    config: BASE_CONFIG,
    data: { values },
    vconcat: [panel('regret', 'Test regret of the derived genotype', 'regret (points of %)'), panel('valid', 'One-shot validation error (supernet, softmax(α))', 'error (%)')],
  } as TopLevelSpec;
}
