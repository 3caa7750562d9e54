/** Top-k Hessian spectra at selected measurements (docs/hessian.md#lanczos). */
import { BASE_CONFIG, VEGA_LITE_SCHEMA, type TopLevelSpec } from './style.js';

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
    $schema: VEGA_LITE_SCHEMA,
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
