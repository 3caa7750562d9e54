/**
 * The paper's table from a study's run folders: with a select phase, each benchmark × method
 * cell is the selected cell's test error after the full training (Table 3); with a train phase
 * alone, the mean ± std over the seeds' trainings (Table 1). Cells without a finished
 * evaluation stay missing (listed in `skipped`), never filled. The table itself is built by
 * analysis/table.ts.
 */
import { join } from 'node:path';
import { buildTable, isTableMethod, TABLE_METHODS, type PaperTable, type TableEntry, type TableMethod } from '../../analysis/table.js';
import type { JobGraph } from './graph.js';
import { readJsonObjectOrNull } from '../run-format.js';

const readJson = readJsonObjectOrNull;

export function studyEntries(studyDir: string, g: JobGraph): { entries: TableEntry[]; skipped: string[]; columns: TableMethod[] } {
  const evals = g.jobs.filter((j) => j.phase === 'select').length ? g.jobs.filter((j) => j.phase === 'select') : g.jobs.filter((j) => j.phase === 'train');
  const entries: TableEntry[] = [];
  const skipped: string[] = [];
  const cols = new Set<TableMethod>();
  for (const j of evals) {
    if (!isTableMethod(j.searchMethod)) {
      skipped.push(`${j.id}: method ${j.searchMethod} is not a column of the table`);
      continue;
    }
    cols.add(j.searchMethod);
    const r = readJson(join(studyDir, j.dir, 'result.json'));
    const err = j.phase === 'select' ? r?.selectedTestError : r?.split === 'test' || r?.split === undefined ? r?.testError : undefined;
    if (typeof err !== 'number') {
      skipped.push(`${j.id}: not finished`);
      continue;
    }
    entries.push({ dataset: j.dataset, space: j.space, method: j.searchMethod, testError: err, source: join(studyDir, j.dir) });
  }
  return { entries, skipped, columns: TABLE_METHODS.filter((m) => cols.has(m)) };
}

export function studyTable(studyDir: string, g: JobGraph): { table: PaperTable; skipped: string[] } {
  const { entries, skipped, columns } = studyEntries(studyDir, g);
  return { table: buildTable(entries, columns.length ? columns : [...TABLE_METHODS]), skipped };
}
