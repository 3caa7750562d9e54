/**
 * Where a cell to train comes from (`rdarts train --genotype G`), resolved to a genotype, the
 * space it came from when that is known, and a description for the record. G may be
 *   - a published name: DARTS_V1, DARTS_V2 (DARTS = DARTS_V2);
 *   - a DARTS repr string: `Genotype(normal=[('sep_conv_3x3', 0), …], …)`;
 *   - genotype JSON text: `{"normal": [["sep_conv_3x3", 0], …], …}`;
 *   - a search run folder: its result.json's genotype (the space from its config.json);
 *   - a file: a genotype JSON file, a result.json, or a text file holding a repr (`arch_1`);
 *   - an entry of the authors' results_arch.yaml: `PATH#<space>_<dataset>/<dp>_<l2>/<seed>`,
 *     e.g. `results_arch.yaml#s1_cifar10/0.0_0.0003/1` (the space from the first key).
 * Nothing is written; every failure is a GenotypeError or CheckpointError naming the cause.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { CheckpointError, GenotypeError } from '../errors.js';
import { genotypeFromJSON, getPublishedGenotype, hasSpace, listPublishedGenotypes, parseGenotypeRepr, type Genotype } from '../nas/index.js';

export interface ResolvedGenotype {
  genotype: Genotype;
  /** what G was, for config.json: 'published DARTS_V2', 'run runs/x (result.json)', … */
  source: string;
  /** the space the cell was searched in, when the source says (a run's config, a results_arch key) */
  space: string | null;
  /** the search method that found it, when the source says (a run's config.json) */
  method: string | null;
  /** the search run folder it came from (absolute), when it did */
  runDir?: string | null;
}

const HINT = 'give a published name (DARTS_V1, DARTS_V2), a DARTS repr, genotype JSON, a search run folder, a genotype/result JSON file, or results_arch.yaml#<space>_<dataset>/<dp>_<l2>/<seed>';

export function resolveGenotypeSource(spec: string): ResolvedGenotype {
  const s = spec.trim();
  if (!s) throw new GenotypeError('the genotype is empty', HINT);
  const upper = s.toUpperCase();
  if ([...listPublishedGenotypes(), 'DARTS'].includes(upper)) return { genotype: getPublishedGenotype(s), source: `published ${upper === 'DARTS' ? 'DARTS_V2' : upper}`, space: null, method: null };
  if (s.startsWith('Genotype(')) return { genotype: parseGenotypeRepr(s, 'the --genotype repr'), source: 'repr', space: null, method: null };
  if (s.startsWith('{')) return { genotype: genotypeFromJSON(s, 'the --genotype JSON'), source: 'JSON', space: null, method: null };
  const hash = s.lastIndexOf('#');
  if (hash > 0 && /\.ya?ml$/i.test(s.slice(0, hash))) return fromResultsArch(s.slice(0, hash), s.slice(hash + 1));
  if (!existsSync(s)) throw new GenotypeError(`'${spec}' is neither a published genotype name, a repr, JSON, nor an existing file or folder`, HINT);
  if (statSync(s).isDirectory()) return fromRunFolder(s);
  return fromFile(s);
}

function fromRunFolder(dir: string): ResolvedGenotype {
  const abs = resolve(dir);
  if (existsSync(join(abs, 'grid.json'))) {
    throw new GenotypeError(`${dir} is a grid of several searches, not one cell`, 'train one member (its folder under runs/), or let `rdarts select` pick among them');
  }
  const resultPath = join(abs, 'result.json');
  if (!existsSync(resultPath)) {
    const hint = existsSync(join(abs, 'config.json'))
      ? 'the search has not finished: continue it with `rdarts search --resume DIR`, or pass another genotype'
      : 'pass the folder of a finished search (it holds result.json)';
    throw new CheckpointError(`${dir} has no result.json, so it holds no final genotype`, hint);
  }
  const result = readJson(resultPath);
  if (result.kind === 'train') throw new GenotypeError(`${dir} is a training run, not a search`, 'pass the search run folder the cell came from, or its genotype');
  if (!result.genotype) throw new GenotypeError(`${resultPath} has no 'genotype' field`, 'pass the folder of a finished single search (grids and RS-ws runs list their pick in result.json too)');
  const genotype = genotypeFromJSON(result.genotype, resultPath);
  let space: string | null = null;
  let method: string | null = null;
  const cfgPath = join(abs, 'config.json');
  if (existsSync(cfgPath)) {
    const cfg = readJson(cfgPath);
    if (typeof cfg.space === 'string' && !cfg.spaceFile && hasSpace(cfg.space)) space = cfg.space;
    if (typeof cfg.method === 'string') method = cfg.method;
  }
  return { genotype, source: `run ${dir} (result.json)`, space, method, runDir: abs };
}

function fromFile(path: string): ResolvedGenotype {
  const text = readFileSync(path, 'utf8').trim();
  if (text.startsWith('Genotype(')) return { genotype: parseGenotypeRepr(text, path), source: `file ${path} (repr)`, space: null, method: null };
  if (/\.ya?ml$/i.test(path)) throw new GenotypeError(`${path} is a YAML file; name the entry to train`, 'write PATH#<space>_<dataset>/<dp>_<l2>/<seed>, e.g. results_arch.yaml#s1_cifar10/0.0_0.0003/1');
  let obj: Record<string, unknown>;
  try {
    obj = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new GenotypeError(`${path} is neither a DARTS repr nor JSON: ${(e as Error).message}`, HINT);
  }
  if (obj && typeof obj === 'object' && 'genotype' in obj) {
    if (obj.kind === 'train') throw new GenotypeError(`${path} is the result of a training run`, 'pass the genotype of a search');
    return { genotype: genotypeFromJSON(obj.genotype, `${path} (genotype)`), source: `file ${path} (genotype field)`, space: null, method: null };
  }
  return { genotype: genotypeFromJSON(obj, path), source: `file ${path}`, space: null, method: null };
}

function fromResultsArch(path: string, key: string): ResolvedGenotype {
  if (!existsSync(path)) throw new GenotypeError(`${path} does not exist`, HINT);
  let doc: unknown;
  try {
    doc = parseYaml(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new GenotypeError(`${path} is not valid YAML: ${(e as Error).message}`);
  }
  const parts = key.split('/').filter(Boolean);
  let node: unknown = doc;
  const walked: string[] = [];
  for (const p of parts) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) break;
    const rec = node as Record<string, unknown>;
    if (!(p in rec)) {
      const keys = Object.keys(rec).slice(0, 12).join(', ');
      throw new GenotypeError(`${path}: no entry '${[...walked, p].join('/')}'`, `entries at this level: ${keys}`);
    }
    node = rec[p];
    walked.push(p);
  }
  if (typeof node !== 'string') {
    throw new GenotypeError(`${path}#${key} is not one genotype (it is ${Array.isArray(node) ? 'a list' : typeof node})`, 'give the full key <space>_<dataset>/<dp>_<l2>/<seed>, e.g. s1_cifar10/0.0_0.0003/1');
  }
  const genotype = parseGenotypeRepr(node, `${basename(path)}#${key}`);
  const m = /^(s\d|darts)_/i.exec(parts[0] ?? '');
  // the reference calls the original DARTS space s5
  const named = m ? (m[1]!.toLowerCase() === 's5' ? 'darts' : m[1]!.toLowerCase()) : null;
  return { genotype, source: `${path}#${key}`, space: named && hasSpace(named) ? named : null, method: null };
}

function readJson(path: string): Record<string, unknown> {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`, 'the file is corrupt; restore it or run again');
  }
}
