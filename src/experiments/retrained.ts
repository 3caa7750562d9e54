/**
 * The test errors of retrained cells, by the search run they came from: every `rdarts train`
 * folder trained on the test split whose config names its `searchRun`, found at or below the
 * given paths (selection folders included: their final training, and with --train-all-full
 * every candidate's). Several trainings of one search's cell are averaged.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CheckpointError } from '../errors.js';
import type { RetrainedError } from '../analysis/test-error.js';
import { readJsonObjectOrNull } from './run-format.js';

const readJson = readJsonObjectOrNull;

export function retrainedTestErrors(paths: string[]): Map<string, RetrainedError> {
  const acc = new Map<string, { sum: number; n: number; sources: string[] }>();
  const visit = (dir: string, depth: number): void => {
    const config = readJson(join(dir, 'config.json'));
    if (config?.kind === 'train') {
      const result = readJson(join(dir, 'result.json'));
      if (result?.split === 'test' && typeof result.testError === 'number' && typeof config.searchRun === 'string') {
        const key = resolve(config.searchRun);
        const a = acc.get(key) ?? { sum: 0, n: 0, sources: [] };
        a.sum += result.testError;
        a.n++;
        a.sources.push(dir);
        acc.set(key, a);
      }
      return;
    }
    if (depth >= 5) return;
    for (const e of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (e.isDirectory() && e.name !== 'checkpoints' && !e.name.startsWith('.')) visit(join(dir, e.name), depth + 1);
    }
  };
  for (const p of paths) {
    if (!existsSync(p) || !statSync(p).isDirectory()) throw new CheckpointError(`${p} is not a folder`, 'pass `rdarts train` / `rdarts select` folders or folders holding them');
    visit(resolve(p), 0);
  }
  return new Map([...acc].map(([k, a]) => [k, { testError: a.sum / a.n, n: a.n, sources: a.sources }]));
}
