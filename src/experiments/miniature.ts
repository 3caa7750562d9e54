/**
 * RobustDARTS in miniature — the main job (`rdarts demo`, `bash scripts/main.sh`): on one space
 * of the paper, search with DARTS, DARTS-ES and DARTS-ADA from the same seed, train each found
 * cell briefly from scratch, and write one report (analysis/report/miniature) with the three
 * eigenvalue trajectories, the decisions, the cells and their test errors.
 *
 *   <out>/search-darts/, search-darts-es/, search-darts-ada/   search run folders
 *   <out>/train-darts/, …                                       training run folders
 *   <out>/report.html, <out>/plots/                             the report
 *   <out>/miniature.json                                        the table and verdict, machine-readable
 *
 * Every job is an ordinary run folder, so a killed demo resumes: finished jobs are read back,
 * an interrupted one continues from its checkpoint, nothing finished is redone.
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadDataset, type ImageDataset } from '../data/index.js';
import { genotypeToJSON } from '../nas/index.js';
import { resolveConfig, type DeepPartial, type SearchConfig } from '../search/config.js';
import { resolveEvalConfig, type EvalSettings } from '../search/eval-config.js';
import type { EvalEvent } from '../search/eval-trainer.js';
import type { SearchEvent } from '../search/trainer.js';
import type { MiniatureEntry, MiniatureRow } from '../analysis/report/miniature.js';
import { writeFileAtomic } from '../util/fs.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { readRun } from './run-reader.js';
import { loadSearchData, resumeSearch, runSearch } from './search-run.js';
import { loadTrainData, readTrainResult, resumeTraining, runTraining } from './train-run.js';

/** The methods of the miniature and their labels as the paper writes them. */
export const MINIATURE_METHODS = [
  { method: 'darts', label: 'DARTS' },
  { method: 'darts-es', label: 'DARTS-ES' },
  { method: 'darts-ada', label: 'DARTS-ADA' },
] as const;

/**
 * The reduced search: S3 on 1,200 Fashion-MNIST images, 5 cells × 8 channels, first order,
 * the Hessian every epoch (Lanczos capped at 8 HVPs), and an architecture learning rate 33× the paper's so that α moves
 * (and the curvature rises) within a few epochs; the early-stop rule's window and delay are
 * scaled to the short search. Every value is listed in the report with its reason.
 */
export const MINIATURE_SEARCH: DeepPartial<SearchConfig> = {
  space: 's3',
  dataset: 'fashion-mnist',
  subset: 1200,
  layers: 5,
  channels: 8,
  epochs: 8,
  batchSize: 32,
  order: 'first',
  archLr: 1e-2,
  seed: 1,
  hessian: { every: 1, method: 'lanczos', topK: 5, batches: 1, lanczosIterations: 8, lanczosTol: 1e-2 },
  earlyStop: { rule: 'code', window: 3, delta: 2, factor: 1.3, startEpoch: 3 },
} as DeepPartial<SearchConfig>;

/** The brief from-scratch training of each found cell. */
export const MINIATURE_TRAIN: DeepPartial<EvalSettings> = {
  dataset: 'fashion-mnist',
  subset: 1500,
  testSubset: 1000,
  layers: 4,
  channels: 8,
  epochs: 3,
  batchSize: 64,
  auxiliary: false,
  cutout: false,
  dropPath: 0,
  seed: 1,
};

export interface MiniatureOptions {
  out: string;
  /** search overrides on top of MINIATURE_SEARCH (flags) */
  search?: DeepPartial<SearchConfig>;
  /** training overrides on top of MINIATURE_TRAIN */
  train?: DeepPartial<EvalSettings>;
  /** skip the retraining (the table's test errors are then missing) */
  noTrain?: boolean;
  onSearchEvent?: (method: string, e: SearchEvent) => void;
  onTrainEvent?: (method: string, e: EvalEvent) => void;
  onNote?: (message: string) => void;
  png?: boolean;
}

export interface MiniatureResult {
  out: string;
  htmlPath: string;
  files: string[];
  rows: MiniatureRow[];
  verdict: string[];
  seconds: number;
}

function settingsTable(s: SearchConfig, t: DeepPartial<EvalSettings> | null): Array<[string, string, string]> {
  const rows: Array<[string, string, string]> = [
    ['space', s.space, 'S3 = {none, skip_connect, sep_conv_3x3}: the paper\'s space where DARTS collapses to skip connections'],
    ['data', `${s.dataset}, ${s.subset ?? 'all'} images (half train, half validation)`, 'real data that ships with Debian; CIFAR-10 cannot be downloaded here'],
    ['supernet', `${s.layers} cells × ${s.channels} channels, batch ${s.batchSize}`, 'paper: 8 × 16, batch 64'],
    ['epochs', String(s.epochs), 'paper: 50'],
    ['architecture gradient', s.order, 'paper: second order; first order costs a third and collapses the same way'],
    ['architecture lr', String(s.archLr), 'paper: 3e-4; a larger step lets α move within a few epochs'],
    ['Hessian', `every ${s.hessian.every} epoch(s), Lanczos ≤ ${s.hessian.lanczosIterations} HVPs, tolerance ${s.hessian.lanczosTol}`, 'paper: every 2 epochs, full Hessian; the trend needs λ_max to a few per cent'],
    ['early-stop rule', `${s.earlyStop.rule} rule, window ${s.earlyStop.window}, delay ${s.earlyStop.delta}, factor ${s.earlyStop.factor}, from epoch ${s.earlyStop.startEpoch}`, 'paper: window 5, delay 4, factor 1.3, from epoch 10 — scaled to the short search'],
    ['DARTS-ADA', `L2 ×${s.ada.eta} per rollback up to ${s.ada.l2Max}`, 'as the paper'],
    ['seed', String(s.seed), 'the same for every method: the methods differ only by their decisions'],
  ];
  if (t) {
    rows.push(['retraining', `${t.layers} cells × ${t.channels} channels, ${t.epochs} epochs, ${t.subset} training / ${t.testSubset} test images, batch ${t.batchSize}, no auxiliary head / cutout / drop path`, 'paper: 600 epochs of a 20-cell (CIFAR-10) or 8-cell network']);
  }
  return rows;
}

/** Run (or continue) the miniature in `o.out` and write its report. */
export async function runMiniature(o: MiniatureOptions): Promise<MiniatureResult> {
  const t0 = Date.now();
  const out = resolve(o.out);
  new RunDir(out).ensure();
  const base = resolveConfig(MINIATURE_SEARCH as Record<string, unknown>, o.search, 'demo');
  const note = o.onNote ?? (() => {});
  let data: ImageDataset | null = null;
  const searchData = async (cfg: SearchConfig): Promise<ImageDataset> => {
    data ??= await loadSearchData(cfg);
    return data;
  };

  const entries: Array<{ label: string; method: string; searchDir: string; trainDir: string }> = [];
  for (const m of MINIATURE_METHODS) {
    const dir = join(out, `search-${m.method}`);
    const cfg = resolveConfig(MINIATURE_SEARCH as Record<string, unknown>, { ...(o.search ?? {}), method: m.method } as DeepPartial<SearchConfig>, 'demo');
    const events = (e: SearchEvent): void => o.onSearchEvent?.(m.label, e);
    if (existsSync(join(dir, RUN_FILES.result))) {
      note(`${m.label}: search finished earlier (${dir})`);
    } else if (existsSync(join(dir, RUN_FILES.config))) {
      note(`${m.label}: continuing the search in ${dir}`);
      await resumeSearch(dir, { onEvent: events, data: await searchData(cfg) });
    } else {
      note(`${m.label}: searching (${dir})`);
      await runSearch(cfg, { out: dir, onEvent: events, data: await searchData(cfg) });
    }
    entries.push({ label: m.label, method: m.method, searchDir: dir, trainDir: join(out, `train-${m.method}`) });
  }

  const trainSettings: DeepPartial<EvalSettings> = { ...MINIATURE_TRAIN, ...(o.train ?? {}) };
  let trainData: { train: ImageDataset; test: ImageDataset | null } | null = null;
  if (!o.noTrain) {
    for (const e of entries) {
      if (readTrainResult(e.trainDir)) {
        note(`${e.label}: training finished earlier (${e.trainDir})`);
        continue;
      }
      const events = (ev: EvalEvent): void => o.onTrainEvent?.(e.label, ev);
      if (existsSync(join(e.trainDir, RUN_FILES.config))) {
        note(`${e.label}: continuing the training in ${e.trainDir}`);
        await resumeTraining(e.trainDir, { onEvent: events, ...(trainData ? { data: trainData } : {}) });
        continue;
      }
      const run = readRun(e.searchDir);
      const g = run.result?.genotype;
      if (!g) throw new Error(`${e.searchDir} has no genotype in result.json`);
      const { config, origins } = resolveEvalConfig(
        { genotype: genotypeToJSON(g), source: `run ${e.searchDir} (result.json)` },
        { preset: 'paper', overrides: { ...trainSettings, space: base.space, searchMethod: e.method }, overridesLabel: 'demo' },
      );
      trainData ??= await loadTrainData(config);
      note(`${e.label}: training the found cell from scratch (${e.trainDir})`);
      await runTraining(config, origins, { out: e.trainDir, onEvent: events, data: trainData });
    }
  }

  const parsed: MiniatureEntry[] = entries.map((e) => {
    const r = o.noTrain ? null : readTrainResult(e.trainDir);
    const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
    return {
      label: e.label,
      search: readRun(e.searchDir),
      training: r ? { testError: num(r.testError), parameters: num(r.parameters), epochs: num(r.epochs), seconds: num(r.wallSeconds) } : null,
    };
  });
  const seconds = (Date.now() - t0) / 1000;
  // vega and Graphviz load only when the report is rendered
  const { renderMiniature } = await import('../analysis/report/miniature.js');
  const rendered = await renderMiniature(
    { title: 'RobustDARTS in miniature', entries: parsed, settings: settingsTable(base, o.noTrain ? null : trainSettings), seconds },
    o.png === undefined ? {} : { png: o.png },
  );
  const htmlPath = join(out, 'report.html');
  writeFileAtomic(htmlPath, rendered.html);
  const files = [htmlPath];
  for (const f of rendered.plots) {
    const p = join(out, 'plots', f.name);
    writeFileAtomic(p, f.data);
    files.push(p);
  }
  const jsonPath = join(out, 'miniature.json');
  writeFileAtomic(jsonPath, JSON.stringify({ rows: rendered.rows, verdict: rendered.verdict, seconds }, null, 2) + '\n');
  files.push(jsonPath);
  return { out, htmlPath, files, rows: rendered.rows, verdict: rendered.verdict, seconds };
}
