/**
 * The λ_max trajectory of a search with its 5-point local average and the early-stop / DARTS-ADA
 * decision points (docs/methods.md#darts-es, docs/methods.md#darts-ada).
 */
import { movingAverage } from '../stats.js';
import { BASE_CONFIG, VEGA_LITE_SCHEMA, isDiscarded, iterLabel, type Rollback, type TopLevelSpec } from './style.js';

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
      out.push({ epoch: p.epoch, iteration: it, maxEigenvalue: p.maxEigenvalue, average: avg[i]!, discarded: isDiscarded(p.epoch, it, rollbacks) });
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
    $schema: VEGA_LITE_SCHEMA,
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

/** One method's trajectory in a side-by-side eigenvalue figure. */
export interface MethodTrajectory {
  /** legend label, e.g. "DARTS-ES" */
  label: string;
  /** the points the final architecture went through (after rollbacks: the effective history) */
  points: Array<{ epoch: number; maxEigenvalue: number }>;
  /** the method's decisions, drawn as labelled rules in the method's colour */
  marks: DecisionMark[];
}

const METHOD_COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];

/**
 * λ_max over epochs for several searches (one line per method, same axes), with each method's
 * early-stop and DARTS-ADA decisions as rules in its colour: the miniature's Figure 3-style view.
 */
export function eigenvalueComparisonSpec(series: MethodTrajectory[], title = 'Dominant eigenvalue λ_max of the α-Hessian, per method'): TopLevelSpec {
  const labels = series.map((s) => s.label);
  const colours = series.map((_, i) => METHOD_COLOURS[i % METHOD_COLOURS.length]!);
  const points = series.flatMap((s) => s.points.map((p) => ({ method: s.label, epoch: p.epoch, maxEigenvalue: p.maxEigenvalue })));
  const marks = series.flatMap((s) => s.marks.map((m) => ({ method: s.label, epoch: m.epoch, label: `${s.label}: ${m.label}` })));
  // stack labels at the same epoch so they do not overlap
  const seen = new Map<number, number>();
  const markValues = marks.map((m) => {
    const k = seen.get(m.epoch) ?? 0;
    seen.set(m.epoch, k + 1);
    return { ...m, slot: k };
  });
  const maxY = Math.max(0, ...points.map((p) => p.maxEigenvalue));
  const colour = { field: 'method', type: 'nominal' as const, title: 'method', scale: { domain: labels, range: colours } };
  const x = { field: 'epoch', type: 'quantitative' as const, title: 'epoch', axis: { tickMinStep: 1, format: 'd' } };
  return {
    $schema: VEGA_LITE_SCHEMA,
    title: { text: title, subtitle: 'rules: early-stop stops and DARTS-ADA rollbacks, in the colour of the method that took them' },
    width: 600,
    height: 320,
    config: BASE_CONFIG,
    layer: [
      {
        data: { values: points },
        mark: { type: 'line', point: true, strokeWidth: 2 },
        encoding: {
          x,
          y: { field: 'maxEigenvalue', type: 'quantitative', title: 'λ_max', scale: { domain: [0, maxY * 1.15 || 1] } },
          color: colour,
          // the searches share a seed, so their lines coincide until a decision: dashes keep each visible
          strokeDash: { field: 'method', type: 'nominal', scale: { domain: labels, range: labels.map((_, i) => (i === 0 ? [1, 0] : [6 - i, 2 + i])) } },
          tooltip: [
            { field: 'method', type: 'nominal' },
            { field: 'epoch', type: 'quantitative' },
            { field: 'maxEigenvalue', type: 'quantitative', format: '.4f' },
          ],
        },
      },
      {
        data: { values: markValues },
        mark: { type: 'rule', strokeWidth: 1.5, strokeDash: [3, 3] },
        encoding: { x: { field: 'epoch', type: 'quantitative' }, color: colour },
      },
      // one text layer per slot: labels at the same epoch sit side by side
      ...[...new Set(markValues.map((m) => m.slot))].map((slot) => ({
        data: { values: markValues.filter((m) => m.slot === slot) },
        mark: { type: 'text' as const, angle: 270, align: 'right' as const, baseline: 'bottom' as const, dx: -4, dy: 12 * slot, fontSize: 10 },
        encoding: {
          x: { field: 'epoch', type: 'quantitative' as const },
          y: { value: 0 },
          text: { field: 'label', type: 'nominal' as const },
          color: colour,
        },
      })),
    ],
  } as TopLevelSpec;
}
