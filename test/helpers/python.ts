import { spawnSync } from 'node:child_process';

/** Debian's python3 with python3-torch (the pyenv python3 on PATH has no torch). */
export const PYTHON = '/usr/bin/python3';

/** Run a Python script (stdin input as JSON) and parse the JSON it prints last. */
export function runPython(script: string, input: unknown = null): any {
  const r = spawnSync(PYTHON, ['-c', script], {
    input: JSON.stringify(input),
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, OMP_NUM_THREADS: '1' },
  });
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  const lines = r.stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}
