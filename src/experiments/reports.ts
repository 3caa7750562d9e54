/**
 * Reports of run folders: read each folder with `readRun`, build the report, comparison or
 * cross-run analysis from the parsed records (`analysis/report`, which opens no files) and write
 * the files atomically.
 *
 * - `buildReport(dir)`: `<run>/report.html` (or `out`) and the figures under `<run>/plots/`
 *   (each SVG with a PNG next to it unless `png: false`);
 * - `buildComparison(dirs, outDir)`: `comparison.html`, `comparison.json` and `plots/*.svg`;
 * - `analyzeRuns(dirs)`: the figures and correlations of `rdarts analyze` (writes nothing); a
 *   grid folder (grid.json) stands for its member runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import type { ComparisonRow, CorrelationResult } from '../analysis/report/compare.js';
import { analyzeRunRecords, type Analysis } from '../analysis/report/analyze.js';
import type { RunSummary } from '../analysis/report/series.js';
import type { DomainRun } from '../analysis/report/domain.js';
import { readRun } from './run-reader.js';
import { RUN_FILES } from './run-format.js';

export interface BuildReportOptions {
  /** Path of the HTML file (default `<run>/report.html`). */
  out?: string;
  /** Folder for the separate SVG files (default `<run>/plots`). */
  plotsDir?: string;
  /** also write a PNG next to each SVG figure (default true) */
  png?: boolean;
}

export interface BuildReportResult {
  htmlPath: string;
  /** Every file written: the HTML first, then the figures (each SVG, then its PNG). */
  files: string[];
  summary: RunSummary;
  warnings: string[];
}

/** Read a run folder and write its report. */
export async function buildReport(dir: string, opts: BuildReportOptions = {}): Promise<BuildReportResult> {
  const run = readRun(dir);
  // loaded here, not at the top: vega and Graphviz-wasm would slow every command's start
  const { renderReport } = await import('../analysis/report/build.js');
  const htmlPath = resolve(opts.out ?? join(run.dir, 'report.html'));
  const plotsDir = resolve(opts.plotsDir ?? join(run.dir, 'plots'));
  const r = await renderReport(run, opts.png === undefined ? {} : { png: opts.png });
  writeFileAtomic(htmlPath, r.html);
  const files = [htmlPath];
  for (const f of r.plots) {
    const p = join(plotsDir, f.name);
    writeFileAtomic(p, f.data);
    files.push(p);
  }
  return { htmlPath, files, summary: r.summary, warnings: r.warnings };
}

export interface ComparisonResult {
  htmlPath: string;
  jsonPath: string;
  files: string[];
  rows: ComparisonRow[];
  correlations: CorrelationResult[];
}

/** Compare runs; writes `comparison.html`, `comparison.json` and `plots/*.svg` under `outDir`. */
export async function buildComparison(dirs: string[], outDir: string): Promise<ComparisonResult> {
  const out = resolve(outDir);
  const { renderComparison } = await import('../analysis/report/compare.js');
  const c = await renderComparison(dirs.map((d) => readRun(d)));
  const plots = c.plots.map((f) => {
    const p = join(out, 'plots', f.name);
    writeFileAtomic(p, f.data);
    return p;
  });
  const htmlPath = join(out, 'comparison.html');
  writeFileAtomic(htmlPath, c.html);
  const jsonPath = join(out, 'comparison.json');
  writeFileAtomic(jsonPath, c.json);
  return { htmlPath, jsonPath, files: [htmlPath, jsonPath, ...plots], rows: c.rows, correlations: c.correlations };
}

/** Run folders behind the arguments: a grid folder (grid.json) stands for its member runs. */
export function expandRunDirs(dirs: string[]): string[] {
  const out: string[] = [];
  for (const d of dirs) {
    const grid = join(resolve(d), RUN_FILES.grid);
    if (existsSync(grid)) {
      const g = JSON.parse(readFileSync(grid, 'utf8')) as { runs?: Array<{ dir: string }> };
      for (const r of g.runs ?? []) out.push(resolve(d, r.dir));
    } else {
      out.push(resolve(d));
    }
  }
  return out;
}

/** Read the run folders (grid folders expanded) and analyse them (see `analyzeRunRecords`). */
export function analyzeRuns(dirs: string[]): Analysis {
  if (dirs.length === 0) throw new ConfigError('analyze: no run folders given', 'pass run folders written by `rdarts search` (or grid folders)');
  return analyzeRunRecords(expandRunDirs(dirs).map((d) => readRun(d)));
}

// ------------------------------------------------------------------ recurrent and S6 searches

function readLines(p: string): Array<Record<string, unknown>> {
  if (!existsSync(p)) return [];
  const out: Array<Record<string, unknown>> = [];
  for (const line of readFileSync(p, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line) as Record<string, unknown>);
    } catch {
      // a torn last line (killed mid-write) is not a record
    }
  }
  return out;
}

/** The domain of a search folder that `buildReport` does not draw: 'rnn', 's6', or null (a CNN run or no run). */
export function searchDomain(dir: string): 'rnn' | 's6' | null {
  const p = join(resolve(dir), RUN_FILES.config);
  if (!existsSync(p)) return null;
  try {
    const c = JSON.parse(readFileSync(p, 'utf8')) as { space?: unknown; kind?: unknown; genotypeSource?: unknown };
    if (c.kind === 'lm-train' || c.genotypeSource !== undefined) return null;
    return c.space === 'rnn' ? 'rnn' : c.space === 's6' ? 's6' : null;
  } catch {
    return null;
  }
}

/** Read a recurrent or S6 search folder into the records of its report. */
export function readDomainRun(dir: string): DomainRun {
  const d = resolve(dir);
  const domain = searchDomain(d);
  if (!domain) throw new ConfigError(`${d} is not a recurrent or S6 search folder`, 'rdarts report draws CNN searches with their own report');
  const config = JSON.parse(readFileSync(join(d, RUN_FILES.config), 'utf8')) as Record<string, unknown>;
  const key = domain === 'rnn' ? 'ppl' : 'epe';
  const split = (v: unknown): { loss: number; metric: number } | null => {
    const o = v as Record<string, number> | null | undefined;
    return o && typeof o.loss === 'number' && typeof o[key] === 'number' ? { loss: o.loss, metric: o[key]! } : null;
  };
  const metrics = readLines(join(d, RUN_FILES.metrics));
  const resultPath = join(d, RUN_FILES.result);
  const r = existsSync(resultPath) ? (JSON.parse(readFileSync(resultPath, 'utf8')) as Record<string, unknown>) : null;
  return {
    domain: domain === 'rnn' ? 'recurrent cell (language modelling)' : 'S6 disparity estimation',
    dir: d,
    name: d.split(/[/\\]/).pop() ?? d,
    metric: domain === 'rnn' ? 'perplexity' : 'EPE (px)',
    config,
    epochs: metrics.filter((l) => l.kind === 'epoch').map((l) => ({ epoch: l.epoch as number, train: split(l.train), valid: split(l.valid), seconds: typeof l.seconds === 'number' ? l.seconds : null })),
    hessians: metrics.filter((l) => l.kind === 'hessian' && typeof l.maxEigenvalue === 'number').map((l) => ({ epoch: l.epoch as number, maxEigenvalue: l.maxEigenvalue as number })),
    earlyStops: metrics.filter((l) => l.kind === 'early-stop').map((l) => ({ detectEpoch: l.detectEpoch as number, stopEpoch: l.stopEpoch as number, rule: typeof l.rule === 'string' ? l.rule : null })),
    genotypes: readLines(join(d, RUN_FILES.genotypes)).filter((l) => typeof l.repr === 'string').map((l) => ({ epoch: l.epoch as number, repr: l.repr as string })),
    result: r
      ? {
          repr: typeof r.repr === 'string' ? r.repr : null,
          stopReason: typeof r.stopReason === 'string' ? r.stopReason : null,
          genotypeEpoch: typeof r.genotypeEpoch === 'number' ? r.genotypeEpoch : null,
          finalMetric: (split(r.finalValid) ?? { metric: null }).metric,
        }
      : null,
  };
}

/** report.html and plots/ of a recurrent or S6 search folder. */
export async function buildDomainReport(dir: string, opts: BuildReportOptions = {}): Promise<{ htmlPath: string; files: string[] }> {
  const run = readDomainRun(dir);
  const { renderDomainReport } = await import('../analysis/report/domain.js');
  const r = await renderDomainReport(run, opts.png === undefined ? {} : { png: opts.png });
  const htmlPath = resolve(opts.out ?? join(run.dir, 'report.html'));
  const plotsDir = resolve(opts.plotsDir ?? join(run.dir, 'plots'));
  writeFileAtomic(htmlPath, r.html);
  const files = [htmlPath];
  for (const f of r.plots) {
    const p = join(plotsDir, f.name);
    writeFileAtomic(p, f.data);
    files.push(p);
  }
  return { htmlPath, files };
}
