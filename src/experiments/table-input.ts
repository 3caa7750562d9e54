/**
 * Reading finished evaluations for `rdarts table`: selection folders (`rdarts select`, the
 * selected cell's test error: Table 3) and training run folders (`rdarts train` with the test
 * split; several for one method give mean ± std: Table 1), found directly or anywhere below the
 * given folders. Each gives a typed TableEntry (analysis/table.ts builds the table); anything
 * that cannot be placed is listed in `skipped` with the reason, never guessed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import { isTableMethod, type TableEntry } from '../analysis/table.js';

export interface TableInput {
  entries: TableEntry[];
  /** genotype repr of each entry (same order), for the cell figures */
  reprs: string[];
  skipped: string[];
}

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`, 'the file is corrupt; rerun or remove that folder');
  }
}

export function collectTableEntries(paths: string[]): TableInput {
  const out: TableInput = { entries: [], reprs: [], skipped: [] };
  const place = (source: string, dataset: unknown, space: unknown, method: unknown, testError: unknown, repr: unknown): void => {
    const why = [
      typeof dataset !== 'string' ? 'no dataset' : '',
      typeof space !== 'string' ? 'the search space is unknown' : '',
      typeof method !== 'string' ? 'the search method is unknown' : !isTableMethod(method) ? `method '${method}' is not a column` : '',
      typeof testError !== 'number' ? 'no test error' : '',
    ].filter(Boolean);
    if (why.length) {
      out.skipped.push(`${source}: ${why.join(', ')}`);
      return;
    }
    out.entries.push({ dataset: dataset as string, space: space as string, method: method as TableEntry['method'], testError: testError as number, source });
    out.reprs.push(typeof repr === 'string' ? repr : '');
  };
  const visit = (dir: string, depth: number, explicit: boolean): void => {
    const result = readJson(join(dir, 'result.json'));
    const config = readJson(join(dir, 'config.json'));
    if (existsSync(join(dir, 'select.json'))) {
      if (!result || result.kind !== 'select') out.skipped.push(`${dir}: the selection has not finished`);
      else place(dir, result.dataset, result.space, result.method, result.selectedTestError, result.selectedRepr);
      return;
    }
    if (config?.kind === 'train') {
      if (!result) out.skipped.push(`${dir}: the training has not finished`);
      else if (result.split !== 'test') out.skipped.push(`${dir}: a ${String(result.split)}-split training (selection), not a test evaluation`);
      else place(dir, config.dataset, config.space, config.searchMethod, result.testError, result.repr);
      return;
    }
    if (config && explicit) {
      out.skipped.push(`${dir}: a search run, not an evaluation (train its cell with \`rdarts train --genotype ${dir}\`)`);
      return;
    }
    if (depth >= 4) return;
    for (const n of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (n.isDirectory() && !n.name.startsWith('.') && n.name !== 'checkpoints') visit(join(dir, n.name), depth + 1, false);
    }
  };
  for (const p of paths) {
    if (!existsSync(p)) throw new CheckpointError(`${p} does not exist`, 'pass `rdarts select` folders, `rdarts train` run folders, or folders holding them');
    const dir = statSync(p).isDirectory() ? resolve(p) : basename(p) === 'result.json' ? dirname(resolve(p)) : null;
    if (!dir) throw new CheckpointError(`${p} is a file, not a run folder`, 'pass the folder');
    visit(dir, 0, true);
  }
  return out;
}
