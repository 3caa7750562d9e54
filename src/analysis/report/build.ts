/**
 * `renderReport`: the human view of one parsed run, as text and bytes — a self-contained
 * `report.html` (inline CSS and SVG, no scripts, nothing fetched) and the main figures as
 * standalone SVG files (each with a PNG next to it, rasterised by resvg) for `<run>/plots/`.
 * Pure: it opens no files; `experiments/reports` reads the run folder and writes the result.
 */
import { renderCellsSvg } from '../../nas/diagram.js';
import { svgToPng } from '../png.js';
import {
  accuracyCurvesSpec,
  alphaHeatmapSpec,
  collapseSpec,
  s5RegretSpec,
  correlationScatterSpec,
  decisionMarks,
  eigenvalueTrajectorySpec,
  genotypeEvolutionSpec,
  lossCurvesSpec,
  renderSvg,
  spectrumSpec,
  type TopLevelSpec,
} from '../plots/index.js';
import { escapeHtml, fmt, inlineSvg, kvTable, page, pct, svgFile, table, type Cell } from './html.js';
import type { Run } from './records.js';
import {
  alphaEdges,
  collapsePoints,
  curveRows,
  eigenPoints,
  finalGenotype,
  genotypeHistory,
  isDiscarded,
  lastAlphaRecord,
  pickSpectra,
  rollbacks,
  summarize,
  type RunSummary,
} from './series.js';

export interface RenderReportOptions {
  /** also render a PNG next to each SVG figure (default true) */
  png?: boolean;
}

/** A file of the report, named relative to the plots folder. */
export interface ReportFile {
  name: string;
  data: string | Uint8Array;
}

export interface RenderedReport {
  /** Text of report.html. */
  html: string;
  /** The figures for the plots folder, in order: each SVG, then its PNG. */
  plots: ReportFile[];
  summary: RunSummary;
  warnings: string[];
}

interface Figure {
  /** File name under plots/ (or null: inline only). */
  file: string | null;
  svg: string;
}

const CONFIG_KEYS = ['method', 'space', 'dataset', 'epochs', 'seed', 'layers', 'channels', 'order', 'batchSize', 'lr', 'l2', 'weightDecay', 'dropPath', 'cutout', 'hessianEvery', 'earlyStop', 'device'];

function configPairs(config: Record<string, unknown>): Array<[string, Cell]> {
  const pairs: Array<[string, Cell]> = [];
  for (const k of CONFIG_KEYS) {
    const v = config[k];
    if (v === undefined) continue;
    pairs.push([k, typeof v === 'number' || typeof v === 'string' ? v : v === null ? null : JSON.stringify(v)]);
  }
  return pairs;
}

function summaryPairs(s: RunSummary, run: Run): Array<[string, Cell]> {
  const pairs: Array<[string, Cell]> = [
    ['stop reason', s.stopReason ?? (run.result ? null : 'not finished (no result.json)')],
    ['epochs run', s.epochsRun],
    ['final validation accuracy (%)', pct(s.finalValidAcc)],
    ['best validation accuracy (%)', pct(s.bestValidAcc)],
    ['final train accuracy (%)', pct(s.finalTrainAcc)],
    ['Hessian measurements', s.hessianCount],
    ['final λ_max', s.finalEigenvalue],
    ['mean λ_max over the trajectory', s.meanEigenvalue],
  ];
  if (run.earlyStops.length) pairs.push(['early stop: architecture of epoch', s.earlyStopEpoch]);
  if (s.rollbackCount) pairs.push(['DARTS-ADA rollbacks', s.rollbackCount]);
  if (s.finalDrop !== null) pairs.push(['accuracy drop after discretisation (last)', s.finalDrop]);
  const shifts = new Set(run.hessians.map((h) => h.shift));
  if (shifts.size === 1 && !shifts.has(0)) pairs.push(['eigenvalue shift (α weight decay on the diagonal)', [...shifts][0]!]);
  return pairs;
}

function eventsList(run: Run): string {
  const items: string[] = [];
  for (const es of run.earlyStops) {
    items.push(
      `Early stop${es.rule ? ` (${escapeHtml(es.rule)} rule)` : ''}: detected at epoch ${fmt(es.detectEpoch)}; returns the architecture of epoch ${fmt(es.stopEpoch)}.`,
    );
  }
  for (const a of run.adaEvents) {
    const l2 = a.previousL2 !== null && a.newL2 !== null ? `; L2 ${fmt(a.previousL2)} → ${fmt(a.newL2)}` : '';
    items.push(`DARTS-ADA ${escapeHtml(a.action)} at epoch ${a.epoch} to epoch ${a.toEpoch}${l2}; iteration ${a.iteration} continues from epoch ${a.toEpoch + 1}.`);
  }
  return items.length ? `<ul class="events">${items.map((i) => `<li>${i}</li>`).join('')}</ul>` : '<p class="note">No early-stop or DARTS-ADA decisions were logged.</p>';
}

function epochTable(run: Run): string {
  const rbs = rollbacks(run);
  const multi = run.epochs.some((e) => e.iteration > 0);
  const key = (epoch: number, it: number) => `${epoch}/${it}`;
  const lam = new Map(run.hessians.map((h) => [key(h.epoch, h.iteration), h.maxEigenvalue]));
  const drop = new Map(run.discretizations.map((d) => [key(d.epoch, d.iteration), d.drop]));
  const hasDrop = run.discretizations.length > 0;
  const col = new Map(run.collapses.map((c) => [key(c.epoch, c.iteration), c]));
  const hasCol = run.collapses.length > 0;
  const regretAt = new Map(run.regrets.map((r) => [key(r.epoch, r.iteration), r.regret]));
  const hasRegret = run.regrets.length > 0;
  const r3 = (v: number | null | undefined) => (v === null || v === undefined ? null : +v.toFixed(3));
  const colCells = (epoch: number, it: number): Cell[] => {
    const c = col.get(key(epoch, it));
    return [r3(c?.paramFreeMass.normal), r3(c?.paramFreeMass.reduce), c?.skips.normal ?? null, r3(c?.entropy.normal), c?.churn && c.churn.normal !== null && c.churn.reduce !== null ? c.churn.normal + c.churn.reduce : null, c?.accGap === null || c?.accGap === undefined ? null : pct(c.accGap)];
  };
  const colHeaders = ['param-free mass N', 'param-free mass R', 'skips N', 'α entropy N', 'churn', 'train−valid acc %'];
  const headers = ['epoch', ...(multi ? ['ADA it'] : []), 'lr', 'L2', 'drop path', 'train loss', 'train acc %', 'valid loss', 'valid acc %', 'λ_max', ...(hasDrop ? ['disc. drop'] : []), ...(hasCol ? colHeaders : []), ...(hasRegret ? ['S5 regret %'] : []), 'seconds'];
  const rows: Cell[][] = run.epochs.map((e) => [
    e.epoch,
    ...(multi ? [e.iteration] : []),
    e.lr,
    e.l2,
    e.dropPath,
    e.train.loss,
    pct(e.train.acc),
    e.valid.loss,
    pct(e.valid.acc),
    lam.get(key(e.epoch, e.iteration)),
    ...(hasDrop ? [drop.get(key(e.epoch, e.iteration))] : []),
    ...(hasCol ? colCells(e.epoch, e.iteration) : []),
    ...(hasRegret ? [pct(regretAt.get(key(e.epoch, e.iteration)))] : []),
    e.seconds === null ? null : +e.seconds.toFixed(1),
  ]);
  const note = multi ? '<p class="note">Rows in grey italics were discarded by a DARTS-ADA rollback.</p>' : '';
  return note + table(headers, rows, { rowClass: (i) => (isDiscarded(run.epochs[i]!.epoch, run.epochs[i]!.iteration, rbs) ? 'discarded' : undefined), className: 'epochs' });
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}">\n<h2>${escapeHtml(title)}</h2>\n${body}\n</section>`;
}

function figureHtml(f: Figure | null, scope: string, missing: string): string {
  return f ? `<div class="figure">${inlineSvg(f.svg, scope)}</div>` : `<p class="note">${escapeHtml(missing)}</p>`;
}

async function plot(file: string | null, spec: TopLevelSpec): Promise<Figure> {
  return { file, svg: await renderSvg(spec) };
}

/** The report of a parsed run: the HTML and the figure files. */
export async function renderReport(run: Run, opts: RenderReportOptions = {}): Promise<RenderedReport> {
  const summary = summarize(run);
  const rbs = rollbacks(run);
  const figures: Figure[] = [];
  const add = (f: Figure | null): Figure | null => {
    if (f) figures.push(f);
    return f;
  };

  // Cells of the final genotype
  const fin = finalGenotype(run);
  let cellsNormal: Figure | null = null;
  let cellsReduce: Figure | null = null;
  if (fin) {
    const cells = await renderCellsSvg(fin.genotype);
    cellsNormal = add({ file: 'cells-normal.svg', svg: cells.normal });
    cellsReduce = add({ file: 'cells-reduce.svg', svg: cells.reduce });
  }

  // Curves
  const rows = curveRows(run);
  const hasLoss = rows.some((r) => r.trainLoss !== null || r.validLoss !== null);
  const hasAcc = rows.some((r) => r.trainAcc !== null || r.validAcc !== null);
  const loss = add(hasLoss ? await plot('loss.svg', lossCurvesSpec(rows, rbs)) : null);
  const acc = add(hasAcc ? await plot('accuracy.svg', accuracyCurvesSpec(rows, rbs)) : null);

  // Eigenvalues
  const marks = decisionMarks(run.earlyStops, rbs);
  const eig = add(run.hessians.length ? await plot('eigenvalues.svg', eigenvalueTrajectorySpec(eigenPoints(run), rbs, marks)) : null);
  const regretFig = add(run.regrets.some((r) => r.source !== 'selected') ? await plot('s5-regret.svg', s5RegretSpec(run.regrets.filter((r) => r.source !== 'selected').map((r) => ({ epoch: r.epoch, regret: r.regret, oneShotValidError: r.oneShotValidError })), String(run.config.method ?? 'this run'))) : null);
  const collapse = add(run.collapses.length ? await plot('collapse.svg', collapseSpec(collapsePoints(run), rbs, eigenPoints(run))) : null);
  const spectra = pickSpectra(run);
  const spectrum = add(spectra.length ? await plot('spectrum.svg', spectrumSpec(spectra)) : null);

  // α and genotype history
  const alphaRec = lastAlphaRecord(run);
  let alphaNormal: Figure | null = null;
  let alphaReduce: Figure | null = null;
  if (alphaRec) {
    const it = run.genotypes.some((g) => g.iteration > 0) ? `, ADA iteration ${alphaRec.iteration}` : '';
    const note = (c: 'normal' | 'reduce') =>
      `epoch ${alphaRec.epoch}${it}; outlined: ops kept by the genotype${alphaRec.alphas![c].softmaxApplied ? '; softmax applied to the logged α' : ''}${alphaRec.alphas![c].ops ? '' : '; op names unknown'}`;
    alphaNormal = add(await plot('alphas-normal.svg', alphaHeatmapSpec('normal', alphaEdges(alphaRec, 'normal'), note('normal'))));
    alphaReduce = add(await plot('alphas-reduce.svg', alphaHeatmapSpec('reduce', alphaEdges(alphaRec, 'reduce'), note('reduce'))));
  }
  const geno = add(run.genotypes.length ? await plot('genotype-epochs.svg', genotypeEvolutionSpec(genotypeHistory(run))) : null);

  // Discretisation drop vs λ_max within the run (docs/methods.md#discretisation-drop), when both were measured
  const lamAt = new Map(run.hessians.map((h) => [`${h.epoch}/${h.iteration}`, h.maxEigenvalue]));
  const dropPts = run.discretizations
    .filter((d) => d.drop !== null && lamAt.has(`${d.epoch}/${d.iteration}`))
    .map((d) => ({ x: lamAt.get(`${d.epoch}/${d.iteration}`)!, y: d.drop!, label: `e${d.epoch}` }));
  const disc = add(
    dropPts.length >= 3
      ? await plot('discretization.svg', correlationScatterSpec(dropPts, { title: 'Accuracy drop after discretisation vs λ_max', xTitle: 'λ_max', yTitle: 'accuracy drop (soft − discrete)' }))
      : null,
  );

  // HTML
  const c = run.config;
  const title = `rdarts report — ${run.name}`;
  const subtitle = [c.method, c.space, c.dataset, c.seed !== undefined ? `seed ${String(c.seed)}` : null].filter((x) => x !== null && x !== undefined).map(String).join(' · ');
  const nav = ['summary', 'curves', 'eigenvalues', 'alphas', 'genotypes', 'epochs'].map((id) => `<a href="#${id}">${id}</a>`).join('');
  const warnings = run.warnings.length ? `<ul class="warn">${run.warnings.map((w) => `<li>${escapeHtml(w)}</li>`).join('')}</ul>` : '';
  const genoHtml = fin
    ? `<h3>Final genotype <span class="note">(from ${escapeHtml(fin.source)})</span></h3>\n<pre class="repr">${escapeHtml(fin.repr)}</pre>\n<div class="row cells">${figureHtml(cellsNormal, 'cells-normal', '')}${figureHtml(cellsReduce, 'cells-reduce', '')}</div>`
    : '<p class="note">No genotype recorded yet (no result.json genotype, no genotypes.jsonl lines).</p>';
  const body = [
    `<header><h1>${escapeHtml(title)}</h1><p class="sub">${escapeHtml(subtitle)}</p><nav>${nav}</nav></header>`,
    section(
      'summary',
      'Summary',
      `<div class="row"><div><h3>Configuration</h3>${kvTable(configPairs(c))}<details><summary>full config.json</summary><pre>${escapeHtml(JSON.stringify(c, null, 2))}</pre></details></div><div><h3>Outcome</h3>${kvTable(summaryPairs(summary, run))}</div></div>\n${warnings}\n${genoHtml}`,
    ),
    section(
      'curves',
      'Loss and accuracy',
      `<div class="row">${figureHtml(loss, 'loss', 'No losses logged.')}${figureHtml(acc, 'accuracy', 'No accuracies logged.')}</div>`,
    ),
    section(
      'eigenvalues',
      'Curvature: dominant eigenvalue and spectrum',
      `${figureHtml(eig, 'eigenvalues', 'No Hessian measurements in metrics.jsonl.')}\n${eventsList(run)}${collapse ? `\n${figureHtml(collapse, 'collapse', '')}` : ''}${regretFig ? `\n${figureHtml(regretFig, 's5-regret', '')}` : ''}\n${figureHtml(spectrum, 'spectrum', 'No eigenvalue lists (top-k spectra) were logged.')}${disc ? `\n${figureHtml(disc, 'discretization', '')}` : ''}`,
    ),
    section(
      'alphas',
      'Architecture weights α (last recorded epoch)',
      alphaRec ? `<div class="row">${figureHtml(alphaNormal, 'alphas-normal', '')}${figureHtml(alphaReduce, 'alphas-reduce', '')}</div>` : '<p class="note">No α recorded in genotypes.jsonl.</p>',
    ),
    section('genotypes', 'Genotype over epochs', figureHtml(geno, 'genotype-epochs', 'No genotypes.jsonl lines.')),
    section('epochs', 'Per-epoch metrics', run.epochs.length ? epochTable(run) : '<p class="note">No epoch lines in metrics.jsonl.</p>'),
    `<footer class="note"><p>Written by rdarts report from ${escapeHtml(run.dir)}.</p></footer>`,
  ].join('\n');

  const plots: ReportFile[] = [];
  for (const f of figures) {
    if (!f.file) continue;
    const svg = svgFile(f.svg);
    plots.push({ name: f.file, data: svg });
    if (opts.png !== false && f.file.endsWith('.svg')) plots.push({ name: f.file.replace(/\.svg$/, '.png'), data: svgToPng(svg) });
  }
  return { html: page(title, body), plots, summary, warnings: run.warnings };
}
