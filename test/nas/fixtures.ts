/** Readers for the RobustDARTS log fixtures (found by test/helpers/fixtures.ts). */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseYaml } from 'yaml';

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
