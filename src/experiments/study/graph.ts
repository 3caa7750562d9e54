/**
 * A study expanded to its job graph (pure: nothing is read or written). Every job is one run
 * folder (its `dir`, relative to the study folder) and one `rdarts` command (`argv`, run in the
 * study folder), so any job can also be run or resumed by hand:
 *
 *   search  one per benchmark × method × seed: `rdarts search --config configs/<job>.json --out <dir>`
 *           (resumed with `rdarts search --resume <dir>`). The grid methods rdarts-l2/rdarts-dp
 *           are studies too: one darts search per grid value × seed (docs/methods.md#r-darts), so an
 *           executor runs them side by side, not serially in one process.
 *   select  one per benchmark × method, after all its searches: `rdarts select <search dirs…>`
 *           (short trainings, pick by validation, the winner's full training: docs/evaluation.md#selection);
 *           running it again continues it. A `train` phase beside `select` is the winner's full
 *           training inside the select job (its `config.epochs` becomes `--epochs`).
 *   train   without select: one per search, `rdarts train --genotype <search dir>` (Table 1:
 *           each search's cell trained once); without search: the study has no cells to train.
 *
 * Every job's configuration is validated here by the search / training schemas, so a bad field
 * is reported (named, with the job) before anything is launched.
 */
import { ConfigError } from '../../errors.js';
import { mergeConfig, resolveConfig, type SearchConfig } from '../../search/config.js';
import { resolveEvalConfig, type EvalConfig, type EvalSettings } from '../../search/eval-config.js';
import { getPublishedGenotype, genotypeToJSON, getSpace, type Genotype } from '../../nas/index.js';
import { enumerateOneNodeGenotypes, s5DirName, s5Key } from '../../analysis/s5.js';
import { isGridMethod, planGrid } from '../grid-plan.js';
import { benchmarkName, methodName, type Benchmark, type Resources, type Study, type StudyMethod } from './schema.js';
import { checkDispPhases, dispBenchmarkJobs, isDispSpace } from './disp.js';
import { checkRnnPhases, isRnnSpace, rnnBenchmarkJobs } from './rnn.js';

export { PHASES } from './job.js';
export type { Job, JobGraph, JobWork, Phase, StepShape, WorkItem } from './job.js';
import type { Job, JobGraph, Phase, WorkItem } from './job.js';

/** Training images per dataset (train split), for step counts. */
export const TRAIN_IMAGES: Record<string, number> = { cifar10: 50000, cifar100: 50000, svhn: 73257, 'fashion-mnist': 60000 };
const IMAGE_SIZE: Record<string, number> = { cifar10: 32, cifar100: 32, svhn: 32, 'fashion-mnist': 28 };

export const DEFAULT_RESOURCES: Required<Resources> = { cpus: 2, gpus: 0, mem: '8G', time: '1-00:00:00' };

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** Expand a validated study; `source` names the file in error messages. */
export function expandStudy(study: Study, source = 'study'): JobGraph {
  const p = study.phases;
  checkDispPhases(study, source);
  checkRnnPhases(study, source);
  if (p.select && !p.search) throw new ConfigError(`${source}: phases.select needs a search phase (it selects among the searches' cells)`, 'add phases.search, or leave select out');
  if (p.train && !p.search) throw new ConfigError(`${source}: phases.train needs a search phase (it trains the searches' cells)`, 'add phases.search');
  if (p.train && p.select) {
    const extra = Object.keys(p.train.config ?? {}).filter((k) => k !== 'epochs');
    if (extra.length) throw new ConfigError(`${source}: phases.train.config.${extra[0]}: with a select phase the final training runs inside the select job, which takes only 'epochs' from phases.train`, 'set training fields in phases.select.config');
    if (p.train.resources) throw new ConfigError(`${source}: phases.train.resources: with a select phase the final training runs inside the select job`, 'set phases.select.resources');
  }
  const jobs: Job[] = [];
  const phases: Record<Phase, string[]> = { search: [], select: [], train: [] };
  const add = (j: Job): void => {
    jobs.push(j);
    phases[j.phase].push(j.id);
  };
  const res = (ph: Phase): Resources => ({ ...DEFAULT_RESOURCES, ...(study.resources ?? {}), ...(p[ph]?.resources ?? {}) });

  for (const [bi, b] of study.benchmarks.entries()) {
    // the disparity space has its own search and training configurations (study/disp.ts)
    if (isDispSpace(b.space)) {
      dispBenchmarkJobs(study, b, bi, source, { search: res('search'), train: res('train') }).forEach(add);
      continue;
    }
    // the recurrent-cell space likewise (study/rnn.ts)
    if (isRnnSpace(b.space)) {
      rnnBenchmarkJobs(study, b, bi, source, { search: res('search'), train: res('train') }).forEach(add);
      continue;
    }
    for (const m of study.methods) {
      const mname = methodName(m);
      const searches = p.search ? searchJobs(study, b, m, source, res('search')) : [];
      searches.forEach(add);
      if (p.select && searches.length) add(selectJob(study, b, m, searches, source, res('select')));
      else if (p.train) for (const s of searches) add(trainJob(study, b, mname, s, source, res('train')));
    }
    if (p.truth) truthJobs(study, b, source, { ...DEFAULT_RESOURCES, ...(study.resources ?? {}), ...(p.truth.resources ?? {}) }).forEach(add);
  }
  return { study: study.name, jobs, phases };
}

function benchmarkFields(b: Benchmark): Record<string, unknown> {
  return { space: b.space, dataset: b.dataset, ...(b.dataDir ? { dataDir: b.dataDir } : {}), ...(b.subset ? { subset: b.subset } : {}) };
}

function searchJobs(study: Study, b: Benchmark, m: StudyMethod, source: string, resources: Resources): Job[] {
  const bname = benchmarkName(b);
  const mname = methodName(m);
  const method = typeof m === 'string' ? m : m.method;
  const seeds = (typeof m === 'string' ? undefined : m.seeds) ?? study.seeds;
  const methodConfig = typeof m === 'string' ? undefined : m.config;
  const out: Job[] = [];
  for (const seed of seeds) {
    const label = `${source}: phases.search.config${methodConfig ? ` with methods[${mname}].config` : ''} (job search/${bname}/${mname}/s${seed})`;
    const merged = mergeConfig({} as Record<string, unknown>, study.phases.search?.config ?? {}, methodConfig ?? {}, { ...benchmarkFields(b), method, seed });
    const cfg = resolveConfig(merged, undefined, label);
    const members: Array<{ cfg: SearchConfig; name: string; grid: Job['grid'] }> = isGridMethod(method)
      ? planGrid(cfg, '.').members.map((g) => ({ cfg: g.config, name: `${g.name}-s${seed}`, grid: { parameter: g.parameter, value: g.value } }))
      : [{ cfg, name: `s${seed}`, grid: null }];
    for (const g of members) {
      const id = `search/${bname}/${mname}/${g.name}`;
      const configPath = `configs/${safe(id.replace(/\//g, '__'))}.json`;
      out.push({
        id,
        phase: 'search',
        dir: id,
        benchmark: bname,
        space: b.space,
        dataset: b.dataset,
        method: mname,
        searchMethod: method,
        seed,
        grid: g.grid,
        deps: [],
        configFile: { path: configPath, content: g.cfg as unknown as Record<string, unknown> },
        argv: ['search', '--config', configPath, '--out', id, '--quiet'],
        resumeArgv: ['search', '--resume', id, '--quiet'],
        resources,
        work: { items: [searchWork(g.cfg)] },
      });
    }
  }
  return out;
}

/** The steps of one search (for the cost estimate). */
export function searchWork(c: SearchConfig): WorkItem {
  const images = c.subset ?? (c.dataset === 'synthetic' ? c.synthetic.n : TRAIN_IMAGES[c.dataset]!);
  const perEpoch = Math.max(1, Math.floor((images * c.trainPortion) / c.batchSize));
  const steps = c.method === 'rs-ws' && c.rsws.steps ? c.rsws.steps : c.epochs * Math.min(perEpoch, c.stepsPerEpoch ?? Infinity);
  return { kind: 'search', space: c.space, order: c.method === 'rs-ws' ? 'first' : c.order, layers: c.layers, channels: c.channels, batchSize: c.batchSize, imageSize: c.dataset === 'synthetic' ? c.synthetic.size : IMAGE_SIZE[c.dataset]!, steps };
}

const PLACEHOLDER = { genotype: genotypeToJSON(getPublishedGenotype('DARTS_V2')) as EvalConfig['genotype'], source: 'study plan (placeholder cell)' };

function evalConfig(fields: Record<string, unknown>, preset: 'paper' | 'short', label: string, extra: Record<string, unknown> = {}): EvalConfig {
  return resolveEvalConfig(PLACEHOLDER, { preset, file: { fields, path: label }, overrides: extra as never }).config;
}

function trainWork(c: EvalConfig): WorkItem {
  const images = c.subset ?? (c.dataset === 'synthetic' ? c.synthetic.n : TRAIN_IMAGES[c.dataset]!);
  const used = c.evaluation === 'validation' ? Math.floor(images * c.trainPortion) : images;
  const perEpoch = Math.max(1, Math.ceil(used / c.batchSize));
  return { kind: 'train', space: 'eval', order: null, layers: c.layers, channels: c.channels, batchSize: c.batchSize, imageSize: c.dataset === 'synthetic' ? c.synthetic.size : IMAGE_SIZE[c.dataset]!, steps: c.epochs * Math.min(perEpoch, c.stepsPerEpoch ?? Infinity) };
}

function selectJob(study: Study, b: Benchmark, m: StudyMethod, searches: Job[], source: string, resources: Resources): Job {
  const bname = benchmarkName(b);
  const mname = methodName(m);
  const s = study.phases.select!;
  const id = `select/${bname}/${mname}`;
  const fields = mergeConfig({} as Record<string, unknown>, s.config ?? {}, benchmarkFields(b));
  const label = `${source}: phases.select.config (job ${id})`;
  const epochs = s.epochs ?? (study.phases.train?.config?.epochs as number | undefined);
  const short = evalConfig(fields, 'short', label, { ...(s.shortEpochs ? { epochs: s.shortEpochs } : {}), ...(s.trainPortion ? { trainPortion: s.trainPortion } : {}) });
  const full = evalConfig(fields, 'paper', label, epochs ? { epochs } : {});
  const configPath = `configs/${safe(id.replace(/\//g, '__'))}.json`;
  const argv = ['select', ...searches.map((j) => j.dir), '--config', configPath, '--out', id, '--quiet'];
  if (s.shortEpochs) argv.push('--short-epochs', String(s.shortEpochs));
  if (epochs) argv.push('--epochs', String(epochs));
  if (s.trainPortion) argv.push('--train-portion', String(s.trainPortion));
  return {
    id,
    phase: 'select',
    dir: id,
    benchmark: bname,
    space: b.space,
    dataset: b.dataset,
    method: mname,
    searchMethod: searches[0]!.searchMethod,
    seed: null,
    grid: null,
    deps: searches.map((j) => j.id),
    configFile: { path: configPath, content: fields },
    argv,
    resumeArgv: null,
    resources,
    work: { items: [{ ...trainWork(short), steps: trainWork(short).steps * searches.length }, { ...trainWork(full), accountAs: 'train' }] },
  };
}

function trainJob(study: Study, b: Benchmark, mname: string, search: Job, source: string, resources: Resources): Job {
  const bname = benchmarkName(b);
  const id = `train/${bname}/${mname}/${search.id.split('/').pop()!}`;
  const fields = mergeConfig({} as Record<string, unknown>, study.phases.train?.config ?? {}, benchmarkFields(b)) as Partial<EvalSettings> & Record<string, unknown>;
  const cfg = evalConfig(fields, 'paper', `${source}: phases.train.config (job ${id})`);
  const configPath = `configs/${safe(id.replace(/\//g, '__'))}.json`;
  return {
    id,
    phase: 'train',
    dir: id,
    benchmark: bname,
    space: b.space,
    dataset: b.dataset,
    method: mname,
    searchMethod: search.searchMethod,
    seed: search.seed,
    grid: search.grid,
    deps: [search.id],
    configFile: { path: configPath, content: fields },
    argv: ['train', '--genotype', search.dir, '--config', configPath, '--out', id, '--quiet'],
    resumeArgv: ['train', '--resume', id, '--quiet'],
    resources,
    work: { items: [trainWork(cfg)] },
  };
}

/**
 * The ground-truth trainings of a one-node space (phases.truth; S5, docs/s5.md): each genotype
 * (all of the space, or the listed keys) × seed is a train-phase job without dependencies,
 * `rdarts train --genotype <JSON> --config configs/truth__<bench>__s<seed>.json --out
 * truth/<bench>/<genotype>/s<seed>`. It always holds out a validation split (evaluation
 * 'validation'); the test error of the trained network and the table come from
 * experiments/study/truth.ts once the folders are finished.
 */
function truthJobs(study: Study, b: Benchmark, source: string, resources: Resources): Job[] {
  const t = study.phases.truth!;
  const bname = benchmarkName(b);
  let all: Genotype[];
  try {
    all = enumerateOneNodeGenotypes(getSpace(b.space));
  } catch (e) {
    throw new ConfigError(`${source}: phases.truth: benchmark ${bname}: ${(e as Error).message}`, 'a ground-truth study trains every genotype of a one-node space (s5)');
  }
  const byKey = new Map(all.map((g) => [s5Key(g), g]));
  const chosen = (t.genotypes ?? [...byKey.keys()]).map((k, i) => {
    const g = byKey.get(k);
    if (!g) throw new ConfigError(`${source}: phases.truth.genotypes.${i}: '${k}' is not a genotype of ${b.space}`, `keys look like '${[...byKey.keys()][0]}' (docs/s5.md)`);
    return g;
  });
  if (t.config?.evaluation === 'test') throw new ConfigError(`${source}: phases.truth.config.evaluation: a ground-truth training holds out a validation split (its test error is measured afterwards)`, 'leave evaluation out');
  const out: Job[] = [];
  for (const seed of study.seeds) {
    const fields = mergeConfig({} as Record<string, unknown>, t.config ?? {}, benchmarkFields(b), { seed, evaluation: 'validation' });
    const cfg = evalConfig(fields, 'paper', `${source}: phases.truth.config (jobs truth/${bname}/*/s${seed})`);
    const configPath = `configs/truth__${safe(bname)}__s${seed}.json`;
    for (const g of chosen) {
      const id = `truth/${bname}/${s5DirName(g)}/s${seed}`;
      out.push({
        id,
        phase: 'train',
        dir: id,
        benchmark: bname,
        space: b.space,
        dataset: b.dataset,
        method: 'truth',
        searchMethod: 'truth',
        seed,
        grid: null,
        deps: [],
        configFile: { path: configPath, content: fields },
        argv: ['train', '--genotype', JSON.stringify(genotypeToJSON(g)), '--config', configPath, '--out', id, '--quiet'],
        resumeArgv: ['train', '--resume', id, '--quiet'],
        resources,
        work: { items: [trainWork(cfg)] },
      });
    }
  }
  return out;
}

/** Jobs in an order that respects dependencies (the graph's own order already does). */
export function topoOrder(g: JobGraph): Job[] {
  const byId = new Map(g.jobs.map((j) => [j.id, j]));
  const seen = new Set<string>();
  const out: Job[] = [];
  const visit = (j: Job): void => {
    if (seen.has(j.id)) return;
    seen.add(j.id);
    for (const d of j.deps) visit(byId.get(d)!);
    out.push(j);
  };
  g.jobs.forEach(visit);
  return out;
}
