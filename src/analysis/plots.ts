/**
 * Plots of a search as Vega-Lite specs (plain data in, spec out; no files), and `renderSvg`,
 * which compiles a spec with vega-lite and renders it to SVG text with vega's headless view
 * (renderer 'none' + toSVG: no browser and no `canvas` package; text widths are estimated).
 *
 * Figures (paper-spec §5.3, §6, §7.4, §12): loss and accuracy curves, the λ_max trajectory with
 * its 5-point local average and the ES / ADA decision points, top-k spectra, α heatmaps, the
 * genotype over epochs, and a cross-run scatter with a least-squares line and Pearson/Spearman.
 *
 * DARTS-ADA: after a rollback, epochs repeat with a higher `iteration`. Series are coloured by
 * iteration; points an iteration later discarded (epochs after the epoch it was rolled back to)
 * are drawn faded.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { movingAverage, pearson, spearman, type Correlation } from './stats.js';

export type { TopLevelSpec };

const FONT = 'Helvetica, Arial, sans-serif';
const BASE_CONFIG = {
  background: 'white',
  font: FONT,
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/** Compile a Vega-Lite spec and render it to standalone SVG text. */
export async function renderSvg(spec: TopLevelSpec): Promise<string> {
  // vega-lite's compile warnings (e.g. about scale choices) are not the user's business here
  const vg = compile(spec, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

function iterLabel(iteration: number): string {
  return `ADA it ${iteration}`;
}

// ---------------------------------------------------------------------------------------------
// Curves

/** One epoch of a search as the curves need it (acc in [0, 1]; null = not logged). */
export interface CurveEpoch {
  epoch: number;
  iteration: number;
  trainLoss: number | null;
  validLoss: number | null;
  trainAcc: number | null;
  validAcc: number | null;
}

/** Rollbacks as the plots need them: at `epoch` the run went back to `toEpoch` and went on as `iteration`. */
export interface Rollback {
  epoch: number;
  toEpoch: number;
  iteration: number;
  previousL2?: number | null;
  newL2?: number | null;
}

/** True when a point of `iteration` at `epoch` was later discarded by a rollback out of that iteration. */
function discarded(epoch: number, iteration: number, rollbacks: Rollback[]): boolean {
  return rollbacks.some((r) => r.iteration === iteration + 1 && epoch > r.toEpoch);
}

function curveSpec(
  rows: CurveEpoch[],
  rollbacks: Rollback[],
  which: 'loss' | 'acc',
  title: string,
): TopLevelSpec {
  const multi = new Set(rows.map((r) => r.iteration)).size > 1;
  const values: Array<Record<string, unknown>> = [];
  for (const r of rows) {
    for (const splitName of ['train', 'valid'] as const) {
      const v = which === 'loss' ? (splitName === 'train' ? r.trainLoss : r.validLoss) : splitName === 'train' ? r.trainAcc : r.validAcc;
      if (v === null || !Number.isFinite(v)) continue;
      values.push({
        epoch: r.epoch,
        value: which === 'acc' ? 100 * v : v,
        series: multi ? `${splitName} · ${iterLabel(r.iteration)}` : splitName,
        split: splitName,
        iteration: r.iteration,
        kept: discarded(r.epoch, r.iteration, rollbacks) ? 'discarded' : 'kept',
      });
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title,
    width: 520,
    height: 260,
    config: BASE_CONFIG,
    data: { values },
    mark: { type: 'line', point: true, strokeWidth: 1.8 },
    encoding: {
      x: { field: 'epoch', type: 'quantitative', title: 'epoch', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: which === 'acc' ? 'accuracy (%)' : 'cross-entropy loss', scale: { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
      strokeDash: { field: 'split', type: 'nominal', title: null, legend: null },
      opacity: { field: 'kept', type: 'ordinal', sort: ['kept', 'discarded'], scale: { domain: ['kept', 'discarded'], range: [1, 0.35] }, legend: null },
      tooltip: [
        { field: 'series', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
  };
}

/** Train and validation loss over epochs. */
export function lossCurvesSpec(rows: CurveEpoch[], rollbacks: Rollback[] = []): TopLevelSpec {
  return curveSpec(rows, rollbacks, 'loss', 'Search loss (train / validation)');
}

/** Train and validation accuracy (%) over epochs. */
export function accuracyCurvesSpec(rows: CurveEpoch[], rollbacks: Rollback[] = []): TopLevelSpec {
  return curveSpec(rows, rollbacks, 'acc', 'Search accuracy (train / validation)');
}

// ---------------------------------------------------------------------------------------------
// Eigenvalue trajectory

export interface EigenPoint {
  epoch: number;
  iteration: number;
  maxEigenvalue: number;
}

export type DecisionKind = 'es-detect' | 'es-stop' | 'ada-rollback';

/** A vertical rule with a text label on the trajectory. */
export interface DecisionMark {
  epoch: number;
  kind: DecisionKind;
  label: string;
}

export interface TrajectoryPoint extends EigenPoint {
  /** Centred 5-point local average over the iteration's effective history. */
  average: number;
  discarded: boolean;
}

/**
 * λ_max per iteration with the local average. The effective history of iteration k > 0 is the
 * history of iteration k−1 up to the epoch it was rolled back to, then iteration k's own points;
 * the average is taken over that history (centred, `window` points, clipped at the ends) and
 * reported for the iteration's own points and the inherited point it starts from.
 */
export function trajectoryWithAverage(points: EigenPoint[], rollbacks: Rollback[], window = 5): TrajectoryPoint[] {
  const iterations = [...new Set(points.map((p) => p.iteration))].sort((a, b) => a - b);
  const history = new Map<number, EigenPoint[]>();
  const out: TrajectoryPoint[] = [];
  for (const it of iterations) {
    const own = points.filter((p) => p.iteration === it).sort((a, b) => a.epoch - b.epoch);
    const rb = rollbacks.find((r) => r.iteration === it);
    const parent = rb ? history.get(it - 1) ?? [] : [];
    const inherited = rb ? parent.filter((p) => p.epoch <= rb.toEpoch) : [];
    const hist = [...inherited, ...own];
    history.set(it, hist);
    const avg = movingAverage(hist.map((p) => p.maxEigenvalue), window, 'centered');
    // the inherited point right at (or before) the rollback epoch, so the line branches from it
    const start = rb && inherited.length ? inherited.length - 1 : inherited.length;
    for (let i = start; i < hist.length; i++) {
      const p = hist[i]!;
      out.push({ epoch: p.epoch, iteration: it, maxEigenvalue: p.maxEigenvalue, average: avg[i]!, discarded: discarded(p.epoch, it, rollbacks) });
    }
  }
  return out;
}

/** Decision marks from logged ES and ADA events. */
export function decisionMarks(
  earlyStops: Array<{ detectEpoch: number | null; stopEpoch: number | null; epoch: number; rule?: string | null }>,
  rollbacks: Rollback[],
): DecisionMark[] {
  const marks: DecisionMark[] = [];
  for (const es of earlyStops) {
    const rule = es.rule ? ` (${es.rule} rule)` : '';
    const detect = es.detectEpoch ?? es.epoch;
    marks.push({ epoch: detect, kind: 'es-detect', label: `ES detect e${detect}${rule}` });
    if (es.stopEpoch !== null) marks.push({ epoch: es.stopEpoch, kind: 'es-stop', label: `ES stop: architecture of e${es.stopEpoch}` });
  }
  for (const r of rollbacks) {
    const l2 = r.previousL2 != null && r.newL2 != null ? `, L2 ${fmtSci(r.previousL2)}→${fmtSci(r.newL2)}` : '';
    marks.push({ epoch: r.epoch, kind: 'ada-rollback', label: `ADA rollback e${r.epoch}→e${r.toEpoch}${l2}` });
  }
  return marks;
}

function fmtSci(x: number): string {
  return x === 0 ? '0' : Math.abs(x) >= 0.01 && Math.abs(x) < 1000 ? String(+x.toPrecision(3)) : x.toExponential(1);
}

const MARK_COLOURS: Record<DecisionKind, string> = { 'es-detect': '#d62728', 'es-stop': '#ff7f0e', 'ada-rollback': '#9467bd' };

/**
 * λ_max over epochs: points and lines coloured by ADA iteration, the local average dashed,
 * vertical rules with text labels at ES detection / stop epochs and ADA rollbacks.
 */
export function eigenvalueTrajectorySpec(points: EigenPoint[], rollbacks: Rollback[] = [], marks: DecisionMark[] = [], window = 5): TopLevelSpec {
  const traj = trajectoryWithAverage(points, rollbacks, window).map((p) => ({
    ...p,
    series: iterLabel(p.iteration),
    kept: p.discarded ? 'discarded' : 'kept',
  }));
  const maxY = Math.max(0, ...traj.map((p) => Math.max(p.maxEigenvalue, p.average)));
  // labels of marks at the same epoch go on alternate sides of their rules
  const seen = new Map<number, number>();
  const markValues = marks.map((m) => {
    const k = seen.get(m.epoch) ?? 0;
    seen.set(m.epoch, k + 1);
    return { ...m, colour: MARK_COLOURS[m.kind], side: k % 2 === 0 ? 'left' : 'right' };
  });
  const colour = { field: 'series', type: 'nominal' as const, title: 'iteration' };
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  const opacity = { field: 'kept', type: 'ordinal' as const, sort: ['kept', 'discarded'], scale: { domain: ['kept', 'discarded'], range: [1, 0.35] }, legend: null };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Dominant Hessian eigenvalue λ_max of the validation loss w.r.t. α', subtitle: `solid: λ_max; dashed: centred ${window}-point local average; rules: early-stop and DARTS-ADA decisions` },
    width: 560,
    height: 300,
    config: BASE_CONFIG,
    layer: [
      {
        data: { values: traj },
        mark: { type: 'line', point: true, strokeWidth: 1.8 },
        encoding: {
          x,
          y: { field: 'maxEigenvalue', type: 'quantitative', title: 'λ_max', scale: { domain: [0, maxY * 1.1 || 1] } },
          color: colour,
          opacity,
          tooltip: [
            { field: 'series', type: 'nominal' },
            { field: 'epoch', type: 'quantitative' },
            { field: 'maxEigenvalue', type: 'quantitative', format: '.4f' },
            { field: 'average', type: 'quantitative', format: '.4f' },
          ],
        },
      },
      {
        data: { values: traj },
        mark: { type: 'line', strokeDash: [5, 3], strokeWidth: 1.4 },
        encoding: { x, y: { field: 'average', type: 'quantitative' }, color: colour, opacity },
      },
      {
        data: { values: markValues },
        mark: { type: 'rule', strokeWidth: 1.5, strokeDash: [2, 2] },
        encoding: { x: { field: 'epoch', type: 'quantitative' }, color: { field: 'colour', type: 'nominal', scale: null } },
      },
      ...(['left', 'right'] as const).map((side) => ({
        data: { values: markValues },
        transform: [{ filter: { field: 'side', equal: side } }],
        mark: { type: 'text' as const, angle: 270, align: 'right' as const, baseline: side === 'left' ? ('bottom' as const) : ('top' as const), dx: -4, fontSize: 10 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const },
          y: { value: 0 },
          text: { field: 'label', type: 'nominal' as const },
          color: { field: 'colour', type: 'nominal' as const, scale: null },
        },
      })),
    ],
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Spectrum

export interface Spectrum {
  epoch: number;
  iteration: number;
  eigenvalues: number[];
}

/** Top-k eigenvalues (descending, index 1..k) at the given measurements, one line per epoch. */
export function spectrumSpec(spectra: Spectrum[]): TopLevelSpec {
  const multi = new Set(spectra.map((s) => s.iteration)).size > 1;
  const values = spectra.flatMap((s, order) =>
    s.eigenvalues.map((v, i) => ({ index: i + 1, value: v, order, label: multi ? `e${s.epoch} · it ${s.iteration}` : `epoch ${s.epoch}` })),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: 'Top-k Hessian eigenvalues at selected epochs',
    width: 420,
    height: 260,
    config: BASE_CONFIG,
    data: { values },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'index', type: 'quantitative', title: 'eigenvalue rank', axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'value', type: 'quantitative', title: 'eigenvalue' },
      color: { field: 'label', type: 'ordinal', title: 'measurement', sort: { field: 'order' }, scale: { scheme: 'viridis' } },
      tooltip: [
        { field: 'label', type: 'nominal' },
        { field: 'index', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.5f' },
      ],
    },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// α heatmap

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
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
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

// ---------------------------------------------------------------------------------------------
// Genotype over epochs

export interface GenotypeStep {
  epoch: number;
  iteration: number;
  /** Per cell type: the genes (op, local source), two per node. */
  cells: Record<string, Array<[string, number]>>;
}

function edgeOf(node: number, source: number): number {
  return (node * (node + 3)) / 2 + source;
}

function edgeName(edge: number): string {
  let node = 0;
  let start = 0;
  while (edge >= start + node + 2) {
    start += node + 2;
    node += 1;
  }
  const source = edge - start;
  return `e${edge}: node ${node} ← ${source < 2 ? `input ${source}` : `node ${source - 2}`}`;
}

/** Op kept on each edge (blank if not kept) per recorded epoch, one panel per cell type. */
export function genotypeEvolutionSpec(steps: GenotypeStep[]): TopLevelSpec {
  const multi = new Set(steps.map((s) => s.iteration)).size > 1;
  const values: Array<Record<string, unknown>> = [];
  const cellTypes = [...new Set(steps.flatMap((s) => Object.keys(s.cells)))];
  steps.forEach((s, order) => {
    const when = multi && s.iteration > 0 ? `${s.epoch} (it ${s.iteration})` : `${s.epoch}`;
    for (const cell of cellTypes) {
      (s.cells[cell] ?? []).forEach(([op, source], i) => {
        const edge = edgeOf(Math.floor(i / 2), source);
        values.push({ cell, order, when, edge: edgeName(edge), edgeIndex: edge, op });
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
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: 'Genotype over epochs', subtitle: 'op kept on each edge after each epoch (blank: edge not kept)' },
    config: BASE_CONFIG,
    data: { values },
    vconcat: cellTypes.map(panel),
    resolve: { scale: { color: 'shared' } },
  } as TopLevelSpec;
}

// ---------------------------------------------------------------------------------------------
// Correlation scatter

export interface ScatterPoint {
  x: number;
  y: number;
  label?: string;
}

export interface ScatterOptions {
  title?: string;
  xTitle?: string;
  yTitle?: string;
}

/** Least-squares line y = a + b·x (null for fewer than 2 points or constant x). */
export function leastSquares(points: ScatterPoint[]): { intercept: number; slope: number } | null {
  const n = points.length;
  if (n < 2) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (const p of points) {
    sxx += (p.x - mx) ** 2;
    sxy += (p.x - mx) * (p.y - my);
  }
  if (sxx === 0) return null;
  const slope = sxy / sxx;
  return { slope, intercept: my - slope * mx };
}

function fmtCorr(name: string, c: Correlation): string {
  if (!Number.isFinite(c.r)) return `${name} n/a`;
  const p = Number.isFinite(c.p) ? (c.p < 1e-3 ? c.p.toExponential(1) : c.p.toFixed(3)) : 'n/a';
  return `${name} = ${c.r.toFixed(3)} (p = ${p})`;
}

/** Correlation summary used in the scatter's title. */
export function correlationTitle(points: ScatterPoint[]): { text: string; pearson: Correlation; spearman: Correlation } {
  const xs = points.map((p) => p.x);
  const ys = points.map((p) => p.y);
  const pr = pearson(xs, ys);
  const sp = spearman(xs, ys);
  return { text: `${fmtCorr('Pearson r', pr)}, ${fmtCorr('Spearman ρ', sp)}, n = ${points.length}`, pearson: pr, spearman: sp };
}

/** Scatter with a least-squares line; Pearson and Spearman (with p-values) in the title. */
export function correlationScatterSpec(points: ScatterPoint[], opts: ScatterOptions = {}): TopLevelSpec {
  const corr = correlationTitle(points);
  const fit = leastSquares(points);
  const xs = points.map((p) => p.x);
  const line = fit ? [Math.min(...xs), Math.max(...xs)].map((x) => ({ x, y: fit.intercept + fit.slope * x })) : [];
  const x = { field: 'x', type: 'quantitative' as const, title: opts.xTitle ?? 'x', scale: { zero: false } };
  const y = { field: 'y', type: 'quantitative' as const, title: opts.yTitle ?? 'y', scale: { zero: false } };
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    title: { text: opts.title ?? 'Correlation across runs', subtitle: corr.text },
    width: 420,
    height: 300,
    config: BASE_CONFIG,
    layer: [
      {
        data: { values: points.map((p) => ({ ...p, label: p.label ?? '' })) },
        mark: { type: 'point', filled: true, size: 60 },
        encoding: { x, y, tooltip: [{ field: 'label', type: 'nominal' }, { field: 'x', type: 'quantitative' }, { field: 'y', type: 'quantitative' }] },
      },
      {
        data: { values: points.map((p) => ({ ...p, label: p.label ?? '' })) },
        mark: { type: 'text', align: 'left', dx: 6, dy: -6, fontSize: 9, color: '#555' },
        encoding: { x, y, text: { field: 'label', type: 'nominal' } },
      },
      {
        data: { values: line },
        mark: { type: 'line', color: '#d62728', strokeDash: [6, 3] },
        encoding: { x, y },
      },
    ],
  } as TopLevelSpec;
}
