/**
 * Shared helpers for the evaluation tests: a tiny training config, the CLI in a child process.
 * (Not a test file itself; node --test runs it as an empty one.)
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
export { tempDir } from '../helpers/tmp.js';
import { childEnv } from '../helpers/threads.js';
import { listCheckpoints, loadCheckpoint } from '../../src/experiments/checkpoint.js';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { resolveEvalConfig, type EvalConfig, type EvalSettings } from '../../src/search/eval-config.js';
import { getPublishedGenotype, genotypeToJSON, type Genotype } from '../../src/nas/index.js';
import type { DeepPartial } from '../../src/search/config.js';

export const CLI = resolve(dirname(fileURLToPath(import.meta.url)), '../../src/cli/main.js');
export const ENV = childEnv({ RDARTS_PLAIN_PROGRESS: '1' });

/** 64 synthetic 8×8 RGB training images (4 classes), 32 test images; batches of 16 → 4 steps per epoch. */
export const TINY_YAML = ['synthetic: { n: 64, testN: 32, channels: 3, size: 8, numClasses: 4 }', 'cutoutLength: 4', ''].join('\n');

export function writeTinyConfig(dir: string): string {
  const p = join(dir, 'tiny.yaml');
  writeFileSync(p, TINY_YAML);
  return p;
}

/** 3 cells, 4 channels, 2 epochs on the tiny synthetic data, with the auxiliary head. */
export function tinyEvalConfig(over: DeepPartial<EvalSettings> = {}, genotype: Genotype = getPublishedGenotype('DARTS_V2')): EvalConfig {
  return resolveEvalConfig(
    { genotype: genotypeToJSON(genotype) as EvalConfig['genotype'], source: 'test' },
    {
      overrides: {
        dataset: 'synthetic',
        synthetic: { n: 64, testN: 32, channels: 3, size: 8, numClasses: 4 },
        cutoutLength: 4,
        layers: 3,
        channels: 4,
        epochs: 2,
        batchSize: 16,
        ...over,
      } as DeepPartial<EvalSettings>,
    },
  ).config;
}

export interface Outcome {
  code: number | null;
  signal: NodeJS.Signals | null;
  stderr: string;
  stdout: string;
}

/** Run the CLI; if `killAt` matches stderr, SIGKILL the process right then. */
export function cli(args: string[], killAt?: RegExp): Promise<Outcome> {
  return new Promise((res, rej) => {
    const p = spawn(process.execPath, [CLI, ...args], { env: ENV, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    let killed = false;
    p.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    p.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (killAt && !killed && killAt.test(stderr)) {
        killed = true;
        p.kill('SIGKILL');
      }
    });
    p.on('error', rej);
    p.on('close', (code, signal) => res({ code, signal, stderr, stdout }));
  });
}

/** Drop every `seconds`/`wallSeconds`/`location` field, at any depth. */
export function withoutTimings(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutTimings);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([k]) => k !== 'seconds' && k !== 'wallSeconds' && k !== 'location')
        .map(([k, x]) => [k, withoutTimings(x)]),
    );
  }
  return v;
}

export function readJsonl(path: string): Array<Record<string, unknown>> {
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** All tensors of a checkpoint as plain numbers (tensors disposed). */
export function checkpointValues(root: string, epoch?: number): { epoch: number; values: Map<string, { shape: number[]; data: number[] }> } {
  const e = epoch ?? listCheckpoints(root).at(-1)!;
  const ck = loadCheckpoint<unknown>(root, e);
  const values = new Map<string, { shape: number[]; data: number[] }>();
  for (const [name, t] of ck.tensors) {
    values.set(name, { shape: [...t.shape], data: t.toNumbers() });
    t.dispose();
  }
  return { epoch: e, values };
}

/** Bitwise comparison of two number arrays (NaN equal to NaN, −0 ≠ +0). */
export function sameBits(a: number[], b: number[]): boolean {
  return a.length === b.length && a.every((x, i) => Object.is(x, b[i]));
}

/** Every file under `dir` (relative paths, sorted). */
export function listTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string): void => {
    for (const n of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${n.name}` : n.name;
      if (n.isDirectory()) walk(join(d, n.name), r);
      else out.push(r);
    }
  };
  walk(dir, '');
  return out.sort();
}
