/** α heatmaps: the softmax weights of each edge of one cell type, the genotype's choices outlined. */
import { BASE_CONFIG, VEGA_LITE_SCHEMA, type TopLevelSpec } from './style.js';

export interface AlphaEdge {
  /** Row label, e.g. "e3: node 1 ← input 1". */
  label: string;
  /** Op names on this edge (may differ between edges, as in S1–S4). */
  ops: string[];
  /** Softmax weights, same length as ops. */
  weights: number[];
  /** Index of the op the genotype keeps on this edge, or null if the edge is not kept. */
  chosen: number | null;
}

/**
 * α heatmap of one cell type: rows = edges, columns = op slots (op names as columns when every
 * edge has the same list, else "op 1 … op K" with each cell's op name written in the cell),
 * colour = softmax weight; the genotype's choices are outlined.
 */
export function alphaHeatmapSpec(cell: string, edges: AlphaEdge[], subtitle = ''): TopLevelSpec {
  const sameOps = edges.every((e) => e.ops.join('|') === edges[0]?.ops.join('|'));
  const values = edges.flatMap((e, row) =>
    e.ops.map((op, k) => ({
      edge: e.label,
      row,
      slot: sameOps ? op : `op ${k + 1}`,
      slotIndex: k,
      op,
      weight: e.weights[k] ?? 0,
      text: sameOps ? (e.weights[k] ?? 0).toFixed(2) : `${op}\n${(e.weights[k] ?? 0).toFixed(2)}`,
      chosen: e.chosen === k,
    })),
  );
  const step = sameOps ? Math.max(44, Math.min(96, 7 * Math.max(...edges.flatMap((e) => e.ops.map((o) => o.length)), 4))) : 110;
  const x = { field: 'slot', type: 'ordinal' as const, title: sameOps ? 'op' : 'op slot (op name in each cell)', sort: { field: 'slotIndex' }, axis: { labelAngle: sameOps ? -30 : 0, orient: 'top' as const } };
  const y = { field: 'edge', type: 'ordinal' as const, title: 'edge', sort: { field: 'row' }, axis: { labelLimit: 0 } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: `α of the ${cell} cell (softmax per edge)`, ...(subtitle ? { subtitle } : {}) },
    width: { step },
    height: { step: sameOps ? 22 : 30 },
    config: BASE_CONFIG,
    data: { values },
    layer: [
      {
        mark: { type: 'rect' },
        encoding: {
          x,
          y,
          color: { field: 'weight', type: 'quantitative', title: 'weight', scale: { scheme: 'blues', domain: [0, 1] } },
          tooltip: [
            { field: 'edge', type: 'nominal' },
            { field: 'op', type: 'nominal' },
            { field: 'weight', type: 'quantitative', format: '.4f' },
          ],
          description: { field: 'op', type: 'nominal' },
        },
      },
      {
        transform: [{ filter: 'datum.chosen' }],
        mark: { type: 'rect', fillOpacity: 0, stroke: '#111', strokeWidth: 2 },
        encoding: { x, y },
      },
      {
        mark: { type: 'text', fontSize: 10, lineBreak: '\n' },
        encoding: {
          x,
          y,
          text: { field: 'text', type: 'nominal' },
          color: { condition: { test: 'datum.weight > 0.6', value: 'white' }, value: '#111' },
        },
      },
    ],
  } as TopLevelSpec;
}
