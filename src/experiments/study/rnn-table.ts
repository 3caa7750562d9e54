/**
 * The table of a recurrent-cell study (docs/lm.md#studies; Table 4's PTB row, paper-spec §11.3):
 * per method entry and seed, the search model's final validation perplexity, the search's last
 * λ_max, the trained cell's test perplexity and its parameters; a mean ± std row over the seeds of
 * each entry with two or more. The same shape and renderers as the S6 table (study/table.ts
 * dispStudyTable): Markdown, CSV, JSON and an HTML fragment. For an R-DARTS grid job
 * (rdarts-l2 / rdarts-dp) the search numbers are those of the member the grid selected (the one
 * its training trained), named in the row. Numbers missing from unfinished jobs stay missing.
 */
import { join } from 'node:path';
import type { Job, JobGraph } from './job.js';
import { readJsonObjectOrNull, RUN_FILES } from '../run-format.js';
import { domainTableHtml, domainTableText, finite, lastLambdaMax, single, sweepText, withSeedMeans, type TableSpec, type TableValue } from './domain-table.js';

export type RnnColumn = 'validPpl' | 'lambdaMax' | 'testPpl' | 'parametersM';
export const RNN_COLUMNS: RnnColumn[] = ['validPpl', 'lambdaMax', 'testPpl', 'parametersM'];
export const RNN_COLUMN_LABELS: Record<RnnColumn, string> = {
  validPpl: 'search valid ppl',
  lambdaMax: 'final λ_max',
  testPpl: 'test ppl',
  parametersM: 'params (M)',
};

export type RnnValue = TableValue;

export interface RnnTableRow {
  benchmark: string;
  /** the method entry's name */
  method: string;
  /** the search method (darts, darts-es, darts-ada, rdarts-l2, rdarts-dp) */
  searchMethod: string;
  /** the entry's `config:` as text (dropouth=0.35), '' without one */
  sweep: string;
  /** a grid job (rdarts-l2 / rdarts-dp): the member it selected (l2_1.5e-06); null otherwise and in mean rows */
  selected: string | null;
  /** the seed, or null for the mean ± std row of the entry */
  seed: number | null;
  values: Record<RnnColumn, RnnValue | null>;
  /** run folders the row was read from */
  sources: string[];
}

export interface RnnStudyTable {
  rows: RnnTableRow[];
  /** jobs whose numbers are missing, with why */
  missing: string[];
}

/** The search numbers of a finished search folder; for a grid folder, its selected member's. */
function searchNumbers(dir: string): { validPpl: number | null; lambdaMax: number | null; selected: string | null; source: string } | null {
  const r = readJsonObjectOrNull(join(dir, RUN_FILES.result));
  if (!r) return null;
  if (Array.isArray(r.members)) {
    const sel = typeof r.selected === 'string' ? r.selected : null;
    if (!sel) return { validPpl: null, lambdaMax: null, selected: null, source: dir };
    const m = join(dir, RUN_FILES.members, sel);
    const mr = readJsonObjectOrNull(join(m, RUN_FILES.result));
    return { validPpl: finite((mr?.finalValid as { ppl?: unknown } | null | undefined)?.ppl), lambdaMax: lastLambdaMax(m), selected: sel, source: m };
  }
  return { validPpl: finite((r.finalValid as { ppl?: unknown } | null | undefined)?.ppl), lambdaMax: lastLambdaMax(dir), selected: null, source: dir };
}

/** The rnn table of a study's folders (null when the study has no rnn search jobs). */
export function rnnStudyTable(studyDir: string, g: JobGraph): RnnStudyTable | null {
  const searches = g.jobs.filter((j) => j.space === 'rnn' && j.phase === 'search');
  if (!searches.length) return null;
  const trainOf = new Map<string, Job>(g.jobs.filter((j) => j.space === 'rnn' && j.phase === 'train').map((j) => [j.deps[0]!, j]));
  const missing: string[] = [];
  const perSeed: RnnTableRow[] = [];
  for (const s of searches) {
    const dir = join(studyDir, s.dir);
    const sn = searchNumbers(dir);
    if (!sn) missing.push(`${s.id}: not finished`);
    const t = trainOf.get(s.id);
    const tr = t ? readJsonObjectOrNull(join(studyDir, t.dir, RUN_FILES.result)) : null;
    if (t && !tr) missing.push(`${t.id}: not finished`);
    const params = finite(tr?.parameters);
    perSeed.push({
      benchmark: s.benchmark,
      method: s.method,
      searchMethod: s.searchMethod,
      sweep: sweepText(s.sweep),
      selected: sn?.selected ?? null,
      seed: s.seed,
      values: {
        validPpl: single(sn?.validPpl ?? null),
        lambdaMax: single(sn?.lambdaMax ?? null),
        testPpl: single(finite((tr?.test as { ppl?: unknown } | null | undefined)?.ppl)),
        parametersM: single(params === null ? null : params / 1e6),
      },
      sources: [sn?.source ?? dir, ...(t && tr ? [join(studyDir, t.dir)] : [])],
    });
  }
  const rows = withSeedMeans(perSeed, RNN_COLUMNS, (r) => ({ ...r, selected: null }));
  return { rows, missing };
}

const noteText = (r: RnnTableRow): string => [r.sweep, r.selected ? `selected ${r.selected}` : ''].filter(Boolean).join('; ');

const CAPTION =
  "Search valid ppl: the search model's final validation perplexity (for a grid, of the member it selected); final λ_max: the search's last Hessian measurement (hessian.every); test ppl: the cell trained from scratch, its best model on the test stream; params: the trained model's weights; — = not measured or not finished.";

const RNN_SPEC: TableSpec<RnnColumn, RnnTableRow> = {
  columns: RNN_COLUMNS,
  labels: RNN_COLUMN_LABELS,
  title: 'rnn (paper Table 4 PTB row: test perplexity; + search valid ppl, final λ_max)',
  noteHeader: 'note',
  note: noteText,
  value: (x, c) => (c === 'lambdaMax' ? x.toPrecision(4) : c === 'parametersM' ? (Math.abs(x) < 0.1 ? x.toPrecision(3) : x.toFixed(2)) : x.toFixed(2)),
  caption: CAPTION,
  htmlTitle: 'Recurrent cell (rnn): search valid perplexity, final λ_max, test perplexity, parameters',
  htmlFooter: CAPTION.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;'),
};

/** The rnn table as Markdown, CSV (std and n columns) or JSON. */
export function rnnTableText(t: RnnStudyTable, format: 'markdown' | 'csv' | 'json'): string {
  return domainTableText(RNN_SPEC, t, format);
}

/** The rnn table as an HTML fragment (a heading, the table and its caption). */
export function rnnTableHtml(t: RnnStudyTable): string {
  return domainTableHtml(RNN_SPEC, t);
}
