/** The `--trained` part of `rdarts analyze`: correlations with the test error of retrained cells, and their scatter plots. */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Analysis } from '../../analysis/report/analyze.js';
import { formatTestErrorAnalysis, testErrorAnalysis, testErrorScatters, type TestErrorAnalysis } from '../../analysis/test-error.js';
import { renderSvg } from '../../analysis/plots/render.js';
import { retrainedTestErrors } from '../../experiments/retrained.js';
import { writeFileAtomic } from '../../util/fs.js';

export function analyzeTrained(a: Analysis, trained: string[]): TestErrorAnalysis {
  return testErrorAnalysis(a, retrainedTestErrors(trained));
}

/** Print the table and correlations; with `plotsDir`, write the scatter SVGs there. */
export async function reportTrained(t: TestErrorAnalysis, plotsDir?: string): Promise<void> {
  process.stdout.write(formatTestErrorAnalysis(t));
  if (!plotsDir) return;
  mkdirSync(plotsDir, { recursive: true });
  for (const s of testErrorScatters(t)) {
    const path = join(plotsDir, `${s.name}.svg`);
    writeFileAtomic(path, await renderSvg(s.spec));
    process.stdout.write(`wrote ${path}\n`);
  }
}
