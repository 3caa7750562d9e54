/**
 * The one Python locator of the tests: Debian's python3, which has python3-torch and numpy
 * (a pyenv python3 earlier on PATH may have neither).
 */
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { childEnv } from './threads.js';

export const PYTHON = '/usr/bin/python3';

function spawnPython(script: string, input: unknown) {
  return spawnSync(PYTHON, ['-c', script], { input: JSON.stringify(input), encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: childEnv() });
}

function lastJsonLine(stdout: string): unknown {
  const lines = stdout.trim().split('\n');
  return JSON.parse(lines[lines.length - 1]!);
}

/** Run a Python script (stdin: `input` as JSON) and parse the JSON it prints last; throws when Python fails. */
export function runPython(script: string, input: unknown = null): any {
  const r = spawnPython(script, input);
  if (r.status !== 0) throw new Error(`python failed (${r.status}): ${r.stderr}`);
  return lastJsonLine(r.stdout);
}

/** Like `runPython`, but null when python3 or numpy is not installed (the caller skips). */
export function pythonJson(script: string, input: unknown): unknown | null {
  if (!existsSync(PYTHON)) return null;
  const r = spawnPython(script, input);
  if (r.status !== 0) {
    if (/No module named 'numpy'/.test(r.stderr)) return null;
    throw new Error(`python failed: ${r.stderr}`);
  }
  return lastJsonLine(r.stdout);
}
