/**
 * Loss and accuracy curves of a search over epochs (train and validation), coloured by DARTS-ADA
 * iteration when the run was rolled back.
 */
import { BASE_CONFIG, VEGA_LITE_SCHEMA, isDiscarded, iterLabel, type Rollback, type TopLevelSpec } from './style.js';

/** One epoch of a search as the curves need it (acc in [0, 1]; null = not logged). */
export interface CurveEpoch {
  epoch: number;
  iteration: number;
  trainLoss: number | null;
  validLoss: number | null;
  trainAcc: number | null;
  validAcc: number | null;
  /** what the held-out curve measured (default validation) */
  heldOut?: 'validation' | 'test';
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
    for (const which2 of ['train', 'valid'] as const) {
      const splitName = which2 === 'train' ? 'train' : r.heldOut === 'test' ? 'test' : 'valid';
      const v = which === 'loss' ? (which2 === 'train' ? r.trainLoss : r.validLoss) : which2 === 'train' ? r.trainAcc : r.validAcc;
      if (v === null || !Number.isFinite(v)) continue;
      values.push({
        epoch: r.epoch,
        value: which === 'acc' ? 100 * v : v,
        series: multi ? `${splitName} · ${iterLabel(r.iteration)}` : splitName,
        split: splitName,
        iteration: r.iteration,
        kept: isDiscarded(r.epoch, r.iteration, rollbacks) ? 'discarded' : 'kept',
      });
    }
  }
  return {
    $schema: VEGA_LITE_SCHEMA,
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
  return curveSpec(rows, rollbacks, 'loss', curveTitle(rows, 'loss'));
}

/** "Search loss (train / validation)"; a from-scratch training on the test split: "Training loss (train / test)". */
function curveTitle(rows: CurveEpoch[], which: 'loss' | 'acc'): string {
  const test = rows.length > 0 && rows.every((r) => r.heldOut === 'test');
  return `${test ? 'Training' : 'Search'} ${which === 'loss' ? 'loss' : 'accuracy'} (train / ${test ? 'test' : 'validation'})`;
}

/** Train and validation accuracy (%) over epochs. */
export function accuracyCurvesSpec(rows: CurveEpoch[], rollbacks: Rollback[] = []): TopLevelSpec {
  return curveSpec(rows, rollbacks, 'acc', curveTitle(rows, 'acc'));
}
