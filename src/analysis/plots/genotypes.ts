/** The genotype over epochs: the op kept on each edge after each recorded epoch. */
import { geneEdge } from '../../nas/spaces.js';
import { BASE_CONFIG, VEGA_LITE_SCHEMA, edgeText, type TopLevelSpec } from './style.js';

export interface GenotypeAtEpoch {
  epoch: number;
  iteration: number;
  /** Per cell type: the genes (op, local source), two per node. */
  cells: Record<string, Array<[string, number]>>;
}

/** Op kept on each edge (blank if not kept) per recorded epoch, one panel per cell type. */
export function genotypeEvolutionSpec(steps: GenotypeAtEpoch[]): TopLevelSpec {
  const multi = new Set(steps.map((s) => s.iteration)).size > 1;
  const values: Array<Record<string, unknown>> = [];
  const cellTypes = [...new Set(steps.flatMap((s) => Object.keys(s.cells)))];
  steps.forEach((s, order) => {
    const when = multi && s.iteration > 0 ? `${s.epoch} (it ${s.iteration})` : `${s.epoch}`;
    for (const cell of cellTypes) {
      (s.cells[cell] ?? []).forEach(([op, source], i) => {
        const edge = geneEdge(i, source);
        values.push({ cell, order, when, edge: edgeText(edge), edgeIndex: edge, op });
      });
    }
  });
  const n = steps.length;
  const step = n > 40 ? 12 : n > 20 ? 18 : 28;
  const panel = (cell: string) => ({
    title: `${cell} cell`,
    width: { step },
    height: { step: 16 },
    transform: [{ filter: { field: 'cell', equal: cell } }],
    mark: { type: 'rect' as const, stroke: 'white', strokeWidth: 0.5 },
    encoding: {
      x: { field: 'when', type: 'ordinal' as const, title: multi ? 'epoch (ADA iteration)' : 'epoch', sort: { field: 'order' }, axis: { labelAngle: -60, labelOverlap: true } },
      y: { field: 'edge', type: 'ordinal' as const, title: null, sort: { field: 'edgeIndex' }, axis: { labelLimit: 0 } },
      color: { field: 'op', type: 'nominal' as const, title: 'op kept', scale: { scheme: 'tableau10' } },
      tooltip: [
        { field: 'when', type: 'nominal' as const, title: 'epoch' },
        { field: 'edge', type: 'nominal' as const },
        { field: 'op', type: 'nominal' as const },
      ],
    },
  });
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: 'Genotype over epochs', subtitle: 'op kept on each edge after each epoch (blank: edge not kept)' },
    config: BASE_CONFIG,
    data: { values },
    vconcat: cellTypes.map(panel),
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}
