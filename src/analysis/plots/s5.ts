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

/** One per-epoch s5-regret measurement of one search run (study report, Figure 2 across runs). */
export interface Figure2Point {
  benchmark: string;
  /** the method's label in the study (darts, rs-ws, darts-es, …) */
  method: string;
  /** the run (job id), for the count of runs per point */
  run: string;
  epoch: number;
  regret: number | null;
  oneShotValidError: number | null;
}

const PAPER_NAMES: Record<string, string> = { darts: 'DARTS', 'rs-ws': 'RS-ws', 'darts-es': 'DARTS-ES', 'darts-ada': 'DARTS-ADA' };

/**
 * The paper's Figure 2 across runs: the test regret over epochs of each method (DARTS: its
 * derived genotype; RS-ws: the best genotype of the space under its shared weights), and the
 * one-shot validation error of the methods that have one (DARTS' supernet with softmax(α)),
 * each the mean over that method's runs at the epoch (the tooltip gives how many).
 */
export function s5Figure2Spec(points: Figure2Point[], benchmark = ''): TopLevelSpec {
  const groups = new Map<string, { panel: string; series: string; epoch: number; xs: number[] }>();
  const put = (panel: string, series: string, epoch: number, v: number | null): void => {
    if (v === null || !Number.isFinite(v)) return;
    const k = `${panel}\u0000${series}\u0000${epoch}`;
    const gr = groups.get(k) ?? { panel, series, epoch, xs: [] };
    gr.xs.push(100 * v);
    groups.set(k, gr);
  };
  for (const p of points) {
    const name = PAPER_NAMES[p.method] ?? p.method;
    put('regret', name, p.epoch, p.regret);
    put('valid', name, p.epoch, p.oneShotValidError);
  }
  const values = [...groups.values()]
    .sort((a, b) => a.panel.localeCompare(b.panel) || a.series.localeCompare(b.series) || a.epoch - b.epoch)
    .map((g) => ({ panel: g.panel, series: g.series, epoch: g.epoch, value: g.xs.reduce((a, b) => a + b, 0) / g.xs.length, runs: g.xs.length }));
  const tooltip = { tooltip: [{ field: 'series' }, { field: 'epoch' }, { field: 'value', format: '.3f' }, { field: 'runs' }] };
  const panel = (id: string, title: string, yTitle: string) => epochPanel(id, title, yTitle, { height: 170, y: { scale: { zero: false } }, encoding: tooltip });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `S5: test regret and one-shot validation error over epochs${benchmark ? ` — ${benchmark}` : ''}`, subtitle: 'mean over each method\'s runs; regret = ground-truth test error − best of the table (points of %)' },
    config: BASE_CONFIG,
    data: { values },
    vconcat: [panel('regret', 'Test regret (DARTS: derived genotype; RS-ws: best genotype under the shared weights)', 'regret (points of %)'), panel('valid', 'One-shot validation error (supernet with softmax(α))', 'error (%)')],
  } as TopLevelSpec;
}
