/**
 * A run folder: config.json, metrics.jsonl, genotypes.jsonl, checkpoints/, result.json
 * (names in run-format.ts). JSON Lines files are appended line by line; checkpoints remember
 * their lengths so a resumed run first cuts away lines written after its checkpoint (no
 * duplicates, nothing lost).
 */
import { appendFileSync, existsSync, mkdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { writeFileAtomic, jsonLine } from '../util/fs.js';
import { CheckpointError } from '../errors.js';
import type { LogLengths } from '../search/recorder.js';
import { RUN_FILES, readJsonLinesFile } from './run-format.js';

export type { LogLengths };

export class RunDir {
  readonly path: string;
  constructor(path: string) {
    this.path = resolve(path);
  }

  file(name: string): string {
    return join(this.path, name);
  }

  get checkpointsDir(): string {
    return this.file(RUN_FILES.checkpoints);
  }

  ensure(): this {
    mkdirSync(this.path, { recursive: true });
    return this;
  }

  exists(): boolean {
    return existsSync(this.file(RUN_FILES.config));
  }

  writeConfig(config: unknown): void {
    writeFileAtomic(this.file(RUN_FILES.config), JSON.stringify(config, null, 2) + '\n');
  }

  readConfig<T = Record<string, unknown>>(): T {
    const p = this.file(RUN_FILES.config);
    if (!existsSync(p)) throw new CheckpointError(`${this.path} is not a run folder: ${RUN_FILES.config} is missing`, 'pass the folder a previous `rdarts search` wrote (its --out)');
    try {
      return JSON.parse(readFileSync(p, 'utf8')) as T;
    } catch (e) {
      throw new CheckpointError(`${p} is not valid JSON: ${(e as Error).message}`);
    }
  }

  appendMetrics(obj: Record<string, unknown>): void {
    appendFileSync(this.file(RUN_FILES.metrics), jsonLine(obj));
  }

  appendGenotype(obj: Record<string, unknown>): void {
    appendFileSync(this.file(RUN_FILES.genotypes), jsonLine(obj));
  }

  writeResult(obj: unknown): void {
    writeFileAtomic(this.file(RUN_FILES.result), JSON.stringify(obj, null, 2) + '\n');
  }

  lengths(): LogLengths {
    const size = (n: string): number => (existsSync(this.file(n)) ? statSync(this.file(n)).size : 0);
    return { metrics: size(RUN_FILES.metrics), genotypes: size(RUN_FILES.genotypes) };
  }

  /** Cut the logs back to the lengths a checkpoint recorded. */
  truncateLogs(l: LogLengths): void {
    for (const [name, len] of [
      [RUN_FILES.metrics, l.metrics],
      [RUN_FILES.genotypes, l.genotypes],
    ] as const) {
      const p = this.file(name);
      if (!existsSync(p)) {
        if (len > 0) throw new CheckpointError(`${p} is missing but the checkpoint expects ${len} bytes of it`);
        continue;
      }
      const size = statSync(p).size;
      if (size < len) throw new CheckpointError(`${p} is shorter (${size} bytes) than when the checkpoint was written (${len} bytes)`, 'the log was edited or truncated; restore it or start a new run');
      if (size > len) truncateSync(p, len);
    }
  }

  /** Parsed metrics lines (all kinds). */
  readMetrics(): Array<Record<string, unknown>> {
    return readJsonLines(this.file(RUN_FILES.metrics));
  }

  readGenotypes(): Array<Record<string, unknown>> {
    return readJsonLines(this.file(RUN_FILES.genotypes));
  }
}

/** The objects of a JSON-lines file (none when it is missing); a bad line is a CheckpointError naming file and line. */
export function readJsonLines(path: string): Array<Record<string, unknown>> {
  return readJsonLinesFile(path, { missingOk: true, error: (line, what) => new CheckpointError(`${path}, line ${line}: ${what}`) }).map((l) => l.value);
}
