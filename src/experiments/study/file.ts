/**
 * Reading a study: a study file (YAML/JSON) or a study folder (which holds its `study.yaml`,
 * copied there by the first `rdarts study run`). Data locations are made absolute here (against
 * the current folder) because every job runs inside the study folder.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { parseConfigText } from '../config-file.js';
import { validateStudy, type Study } from './schema.js';
import { expandStudy, type JobGraph } from './graph.js';

export const STUDY_FILE = 'study.yaml';
/** the driver's record of attempts, failures and scheduler ids (run folders stay the truth for "finished") */
export const STATE_FILE = 'jobs.json';

export interface LoadedStudy {
  study: Study;
  graph: JobGraph;
  /** the file's text (copied into the study folder) */
  text: string;
  path: string;
}

/** Parse and validate study text; `path` names it in errors. */
export function parseStudy(text: string, path: string, base = process.cwd()): LoadedStudy {
  const study = validateStudy(parseConfigText(text, path), path);
  for (const b of study.benchmarks) if (b.dataDir && !isAbsolute(b.dataDir)) b.dataDir = resolve(base, b.dataDir);
  // S6 trainings measure Sintel EPE from this root (docs/disparity.md#study-table-2)
  const tc = study.phases.train?.config;
  if (tc && typeof tc.sintelDir === 'string' && tc.sintelDir && !isAbsolute(tc.sintelDir)) tc.sintelDir = resolve(base, tc.sintelDir);
  return { study, graph: expandStudy(study, path), text, path };
}

/** Read a study file, or the study.yaml of a study folder. */
export function readStudy(fileOrDir: string): LoadedStudy {
  if (!existsSync(fileOrDir)) throw new ConfigError(`${fileOrDir} does not exist`, 'pass a study file (studies/*.yaml) or a study folder');
  const path = statSync(fileOrDir).isDirectory() ? join(fileOrDir, STUDY_FILE) : fileOrDir;
  if (!existsSync(path)) throw new ConfigError(`${fileOrDir} is not a study folder: ${STUDY_FILE} is missing`, 'pass the study file to `rdarts study run FILE --out DIR` first');
  return parseStudy(readFileSync(path, 'utf8'), path);
}
