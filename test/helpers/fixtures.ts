/**
 * The one fixture finder of the tests. The fixtures are part of the repository (test/fixtures/,
 * see its README.md), so no test skips for want of them; RDARTS_FIXTURES_DIR points the tests at
 * another folder laid out the same way (e.g. a full copy of the authors' logs).
 */
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Repository root (this file runs as dist/test/helpers/fixtures.js, three levels below it). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

/** The fixtures folder: RDARTS_FIXTURES_DIR when set, else test/fixtures of the repository. */
export function fixturesRoot(): string {
  return process.env.RDARTS_FIXTURES_DIR || join(repoRoot, 'test', 'fixtures');
}

/** A file or folder inside the fixtures; a missing one is an error that says where it was looked for. */
export function fixturePath(...parts: string[]): string {
  const p = join(fixturesRoot(), ...parts);
  if (!existsSync(p)) {
    const from = process.env.RDARTS_FIXTURES_DIR ? `RDARTS_FIXTURES_DIR=${process.env.RDARTS_FIXTURES_DIR}` : 'test/fixtures/ of the repository';
    throw new Error(`test fixture not found: ${p} (looked in ${from}; see test/fixtures/README.md)`);
  }
  return p;
}

/** The RobustDARTS authors' logs: results_arch.yaml and the S1 run folder below. */
export function robustDartsLogsDir(): string {
  return fixturePath('robustdarts-logs');
}

/** The S1 / CIFAR-10 / dp 0.0 / L2 3e-4 logs: derivatives_{1,2,3}.json (Hessians) and arch_{1,2,3}. */
export function robustDartsS1Dir(): string {
  return fixturePath('robustdarts-logs', 's1-cifar10-dp0.0-l2_3e-4');
}
