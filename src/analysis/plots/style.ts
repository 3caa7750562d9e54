/**
 * What every figure of a search shares: the Vega-Lite schema and look, the series label of a
 * DARTS-ADA iteration, rollbacks as the figures need them (points an iteration later discarded
 * are drawn faded) and the row label of a cell edge. Plain data, no rendering.
 */
import type { TopLevelSpec } from 'vega-lite';
import { edgeSource, sourceName } from '../../nas/spaces.js';

export type { TopLevelSpec };

export const VEGA_LITE_SCHEMA = 'https://vega.github.io/schema/vega-lite/v5.json';

const FONT = 'Helvetica, Arial, sans-serif';
export const BASE_CONFIG = {
  background: 'white',
  font: FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Series label of a DARTS-ADA iteration. */
export function iterLabel(iteration: number): string {
  return `ADA it ${iteration}`;
}

/** Rollbacks as the plots need them: at `epoch` the run went back to `toEpoch` and went on as `iteration`. */
export interface Rollback {
  epoch: number;
  toEpoch: number;
  iteration: number;
  previousL2?: number | null;
  newL2?: number | null;
}

/** Is the point of `iteration` at `epoch` later discarded by a rollback out of that iteration? */
export function isDiscarded(epoch: number, iteration: number, rollbacks: Rollback[]): boolean {
  return rollbacks.some((r) => r.iteration === iteration + 1 && epoch > r.toEpoch);
}

/** Row label of a cell edge: "e3: node 1 ← input 1". */
export function edgeText(edge: number): string {
  const { node, source } = edgeSource(edge);
  return `e${edge}: node ${node} ← ${sourceName(source)}`;
}

/**
 * One panel of a stack of line charts over epochs (the collapse and S5 figures): the rows whose
 * `panel` field is `id`, a coloured line per `series`; `y` and `color` add to those channels,
 * `encoding` adds further channels.
 */
export function epochPanel(id: string, title: string, yTitle: string, o: { height: number; y?: Record<string, unknown>; color?: Record<string, unknown>; encoding?: Record<string, unknown> }) {
  return {
    title,
    width: 520,
    height: o.height,
    transform: [{ filter: { field: 'panel', equal: id } }],
    mark: { type: 'line' as const, point: true, strokeWidth: 1.6 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative' as const, title: yTitle, ...o.y },
      color: { field: 'series', type: 'nominal' as const, title: null, ...o.color },
      ...o.encoding,
    },
  };
}
