/**
 * The report of a search in another domain (docs/lm.md#report, docs/disparity.md#report): the
 * recurrent-cell search (perplexity) and the S6 disparity search (end-point error). Smaller than
 * a CNN search's report (build.ts): the configuration and outcome, the loss and metric curves,
 * the λ_max trajectory with DARTS-ES decisions, the genotype over epochs and the per-epoch table.
 * Pure: the caller reads the run folder into a `DomainRun` and writes the files.
 */
import { svgToPng } from '../png.js';
import { eigenvalueTrajectorySpec, renderSvg, type DecisionMark, type TopLevelSpec } from '../plots/index.js';
import { BASE_CONFIG, VEGA_LITE_SCHEMA } from '../plots/style.js';
import { escapeHtml, inlineSvg, kvTable, page, svgFile, table, type Cell } from './html.js';
import type { ReportFile } from './build.js';

export interface DomainEpoch {
  epoch: number;
  train: { loss: number; metric: number } | null;
  valid: { loss: number; metric: number } | null;
  seconds: number | null;
}

export interface DomainRun {
  /** 'recurrent cell (PTB)' or 'S6 disparity' */
  domain: string;
  dir: string;
  name: string;
  /** the metric's name: 'perplexity' or 'EPE (px)' */
  metric: string;
  /** lower is better for both */
  config: Record<string, unknown>;
  epochs: DomainEpoch[];
  hessians: Array<{ epoch: number; maxEigenvalue: number }>;
  earlyStops: Array<{ detectEpoch: number; stopEpoch: number; rule: string | null }>;
  /** genotype repr per epoch (genotypes.jsonl) */
  genotypes: Array<{ epoch: number; repr: string }>;
  result: { repr: string | null; stopReason: string | null; genotypeEpoch: number | null; finalMetric: number | null } | null;
}

function metricCurvesSpec(run: DomainRun, which: 'loss' | 'metric'): TopLevelSpec {
  const values: Array<Record<string, unknown>> = [];
  for (const e of run.epochs) {
    for (const split of ['train', 'valid'] as const) {
      const v = e[split]?.[which];
      if (v === undefined || v === null || !Number.isFinite(v)) continue;
      values.push({ epoch: e.epoch, value: v, split });
    }
  }
  const title = which === 'loss' ? 'Search loss (train / validation)' : `Search ${run.metric} (train / validation)`;
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
      y: { field: 'value', type: 'quantitative', title: which === 'loss' ? 'loss' : run.metric, scale: { zero: false } },
      color: { field: 'split', type: 'nominal', title: null },
      tooltip: [
        { field: 'split', type: 'nominal' },
        { field: 'epoch', type: 'quantitative' },
        { field: 'value', type: 'quantitative', format: '.4f' },
      ],
    },
  } as TopLevelSpec;
}

/** The number of distinct genotypes seen and at which epochs the derived genotype changed. */
export function genotypeChanges(genotypes: DomainRun['genotypes']): number[] {
  const out: number[] = [];
  for (let i = 1; i < genotypes.length; i++) if (genotypes[i]!.repr !== genotypes[i - 1]!.repr) out.push(genotypes[i]!.epoch);
  return out;
}

export async function renderDomainReport(run: DomainRun, opts: { png?: boolean } = {}): Promise<{ html: string; plots: ReportFile[] }> {
  const figures: Array<{ file: string; svg: string }> = [];
  const plot = async (file: string, spec: TopLevelSpec) => {
    const f = { file, svg: await renderSvg(spec) };
    figures.push(f);
    return f;
  };
  const fig = (f: { file: string; svg: string } | null, empty: string) =>
    f ? `<figure>${inlineSvg(f.svg, f.file.replace(/\.svg$/, ''))}<figcaption><a href="plots/${escapeHtml(f.file)}">${escapeHtml(f.file)}</a></figcaption></figure>` : `<p class="note">${escapeHtml(empty)}</p>`;
  const loss = run.epochs.length ? await plot('loss.svg', metricCurvesSpec(run, 'loss')) : null;
  const metric = run.epochs.length ? await plot('metric.svg', metricCurvesSpec(run, 'metric')) : null;
  const marks: DecisionMark[] = run.earlyStops.flatMap((s) => [
    { epoch: s.detectEpoch, kind: 'es-detect' as const, label: `ES detect (${s.rule ?? 'rule'})` },
    { epoch: s.stopEpoch, kind: 'es-stop' as const, label: 'ES: architecture of this epoch' },
  ]);
  const eig = run.hessians.length ? await plot('eigenvalues.svg', eigenvalueTrajectorySpec(run.hessians.map((h) => ({ ...h, iteration: 0 })), [], marks)) : null;

  const lam = new Map(run.hessians.map((h) => [h.epoch, h.maxEigenvalue]));
  const last = run.epochs.at(-1);
  const changes = genotypeChanges(run.genotypes);
  const outcome: Array<[string, Cell]> = [
    ['stop reason', run.result?.stopReason ?? 'not finished (no result.json)'],
    ['epochs run', run.epochs.length],
    [`final validation ${run.metric}`, run.result?.finalMetric ?? last?.valid?.metric ?? null],
    [`best validation ${run.metric}`, run.epochs.length ? Math.min(...run.epochs.map((e) => e.valid?.metric ?? Infinity)) : null],
    ['Hessian measurements', run.hessians.length],
    ['final λ_max', run.hessians.at(-1)?.maxEigenvalue ?? null],
    ['genotype changes (epochs)', changes.length ? changes.join(', ') : 'none'],
  ];
  if (run.earlyStops.length) outcome.push(['early stop: architecture of epoch', run.earlyStops[0]!.stopEpoch]);
  const keys = ['method', 'space', 'dataset', 'epochs', 'seed', 'order', 'batchSize', 'lr', 'weightDecay', 'augment', 'dropouth', 'device'];
  const cfg: Array<[string, Cell]> = keys.filter((k) => run.config[k] !== undefined).map((k) => [k, typeof run.config[k] === 'object' ? JSON.stringify(run.config[k]) : (run.config[k] as Cell)]);
  const rows: Cell[][] = run.epochs.map((e) => [e.epoch, e.train?.loss, e.train?.metric, e.valid?.loss, e.valid?.metric, lam.get(e.epoch) ?? null, e.seconds]);
  const title = `rdarts report — ${run.name}`;
  const repr = run.result?.repr ?? run.genotypes.at(-1)?.repr ?? null;
  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(run.domain)} · ${escapeHtml([run.config.method, run.config.dataset, run.config.seed !== undefined ? `seed ${String(run.config.seed)}` : null].filter(Boolean).join(' · '))}</p></header>`,
    `<section id="summary"><h2>Summary</h2><div class="row"><div><h3>Configuration</h3>${kvTable(cfg)}<details><summary>full config.json</summary><pre>${escapeHtml(JSON.stringify(run.config, null, 2))}</pre></details></div><div><h3>Outcome</h3>${kvTable(outcome)}</div></div>`,
    repr ? `<h3>Final genotype</h3><pre class="repr">${escapeHtml(repr)}</pre>` : '<p class="note">No genotype recorded yet.</p>',
    '</section>',
    `<section id="curves"><h2>Loss and ${escapeHtml(run.metric)}</h2><div class="row">${fig(loss, 'No epochs logged.')}${fig(metric, 'No epochs logged.')}</div></section>`,
    `<section id="eigenvalues"><h2>Curvature: dominant eigenvalue of the α-Hessian</h2>${fig(eig, 'No Hessian measurements in metrics.jsonl (--hessian-every 0).')}</section>`,
    `<section id="epochs"><h2>Per-epoch metrics</h2>${run.epochs.length ? table(['epoch', 'train loss', `train ${run.metric}`, 'valid loss', `valid ${run.metric}`, 'λ_max', 'seconds'], rows) : '<p class="note">No epoch lines.</p>'}</section>`,
    `<footer class="note"><p>Written by rdarts report from ${escapeHtml(run.dir)}.</p></footer>`,
  ].join('\n');
  const plots: ReportFile[] = [];
  for (const f of figures) {
    const svg = svgFile(f.svg);
    plots.push({ name: f.file, data: svg });
    if (opts.png !== false) plots.push({ name: f.file.replace(/\.svg$/, '.png'), data: svgToPng(svg) });
  }
  return { html: page(title, body), plots };
}
