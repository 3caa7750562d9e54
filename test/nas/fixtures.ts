import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

/**
 * The RobustDARTS log fixtures (shared/fixtures/robustdarts-logs). Looked up in
 * RDARTS_FIXTURES_DIR, then shared/fixtures beside or above the repository root.
 * Compiled location: dist/test/nas/fixtures.js, so the root is three levels up.
 */
export function robustDartsLogsDir(): string | undefined {
  const root = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  const candidates = [
    process.env.RDARTS_FIXTURES_DIR,
    join(root, 'shared/fixtures'),
    join(root, '../shared/fixtures'),
  ].filter((x): x is string => !!x);
  for (const c of candidates) {
    const d = join(c, 'robustdarts-logs');
    if (existsSync(join(d, 'results_arch.yaml'))) return d;
  }
  return undefined;
}

export interface FixtureGenotype {
  /** e.g. s1_cifar10 / 0.0_0.0003 / 1 */
  where: string;
  space: string;
  repr: string;
}

/** Every genotype string of results_arch.yaml (space → setting → seed → repr). */
export function resultsArchGenotypes(dir: string): FixtureGenotype[] {
  const doc = parseYaml(readFileSync(join(dir, 'results_arch.yaml'), 'utf8')) as Record<string, Record<string, Record<string, unknown>>>;
  const out: FixtureGenotype[] = [];
  for (const [spaceKey, settings] of Object.entries(doc)) {
    for (const [setting, seeds] of Object.entries(settings)) {
      for (const [seed, repr] of Object.entries(seeds)) {
        if (typeof repr !== 'string') throw new Error(`results_arch.yaml ${spaceKey}/${setting}/${seed}: not a string`);
        out.push({ where: `${spaceKey}/${setting}/${seed}`, space: spaceKey.split('_')[0]!, repr });
      }
    }
  }
  return out;
}
