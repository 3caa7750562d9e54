/**
 * Studies on the recurrent-cell space (issue 12, docs/lm.md#studies, docs/studies.md#recurrent-cell-studies;
 * paper-spec §3.8, §10.1, Table 4's PTB row §11.3): a benchmark
 * `{ space: rnn, dataset: ptb | common-licenses, dataDir? }` expands into
 *
 *   search  one per method entry × seed: `rdarts search --space rnn --config configs/<job>.json
 *           --out search/<bench>/<method>/s<seed>` (resumed with `rdarts search --resume <dir>`).
 *           The config is the whole recurrent search configuration, resolved here by
 *           resolveRnnConfig (defaults ← phases.search.config ← the method entry's `config:` ←
 *           benchmark, method, seed), so a bad field is reported, named, before anything runs.
 *           rdarts-l2 / rdarts-dp are ONE job each: the recurrent R-DARTS grid (its darts members
 *           one after another in `runs/<value>/`, the pick by the search model's final validation
 *           perplexity; lm-search-run.ts runRnnGrid), resumed as a grid by `--resume`. (Unlike the
 *           CNN studies, whose grids become one job per member: a recurrent grid's pick is part
 *           of the method, paper-spec §10.1, and the study has no select phase for rnn.)
 *   train   one per search, after it: `rdarts train --space rnn --genotype <search dir> --config
 *           configs/<job>.json --out train/<bench>/<method>/s<seed>` (+ `--data-dir` for PTB,
 *           `--vocab-size` for common-licenses: the corpus is the search's), resumed with
 *           `--resume`. A grid's training takes the member the grid selected. Its config is
 *           phases.train.config plus the benchmark's dataset, validated by resolveRnnEvalConfig
 *           with a placeholder cell (DARTS_V2); the cell and the corpus come from the search.
 *
 * The select phase (CNN: a pick among searches by short trainings, paper-spec §9) and the truth
 * phase (S5) are refused for rnn, naming the phase. Pure: nothing is read or written.
 */
import { ConfigError } from '../../errors.js';
import { mergeConfig } from '../../search/config.js';
import { isRnnGridMethod, resolveRnnConfig, RNN_DATASETS, type RnnSearchConfig } from '../../search/rnn/config.js';
import { DEFAULT_RNN_EVAL_CONFIG, resolveRnnEvalConfig, type RnnEvalConfig } from '../../search/rnn/eval-config.js';
import type { Job, WorkItem } from './job.js';
import { configPathOf, domainSearchJobs } from './domain-jobs.js';
import { benchmarkName, type Benchmark, type Resources, type Study, type StudyMethod } from './schema.js';

/** Is this benchmark's space the recurrent-cell space? */
export function isRnnSpace(space: string): boolean {
  return space.trim().toLowerCase() === 'rnn';
}

/**
 * Training tokens of each corpus (words + one <eos> per line), for step counts in the plan:
 * PTB's ptb.train.txt (Mikolov's files: 887,521 words + 42,068 lines = 929,589, the length of
 * DARTS' `corpus.train`); the embedded common-licenses corpus as this project tokenises it
 * (`trainTokens` of a run's config.json).
 */
export const TEXT_TRAIN_TOKENS: Record<string, number> = { ptb: 929589, 'common-licenses': 31163 };

/** Fields of phases.train.config that an rnn study sets itself (the cell and the corpus are the search's). */
const TRAIN_FIELDS_FROM_SEARCH = ['genotype', 'genotypeSource', 'dataDir', 'download', 'vocabSize', 'space'] as const;


function benchmarkFields(b: Benchmark, source: string, index: number): Record<string, unknown> {
  if (b.subset !== undefined) throw new ConfigError(`${source}: benchmarks.${index}.subset: does not apply to space rnn`, 'the recurrent search uses the whole corpus; shorten it with stepsPerEpoch / evalBatches in phases.search.config');
  if (!(RNN_DATASETS as readonly string[]).includes(b.dataset)) throw new ConfigError(`${source}: benchmarks.${index}.dataset: '${b.dataset}' is not a text corpus (space rnn takes ${RNN_DATASETS.join(' or ')})`);
  return { space: 'rnn', dataset: b.dataset, ...(b.dataDir ? { dataDir: b.dataDir } : {}) };
}

/** Refuse the phases the recurrent space does not have (select, truth), naming the phase. */
export function checkRnnPhases(study: Study, source: string): void {
  const b = study.benchmarks.find((x) => isRnnSpace(x.space));
  if (!b) return;
  for (const ph of ['select', 'truth'] as const) {
    if (study.phases[ph]) {
      throw new ConfigError(
        `${source}: phases.${ph}: the ${ph} phase is not supported for space rnn (benchmark ${benchmarkName(b)})`,
        ph === 'select' ? "an rnn study trains each search's cell once (phases.train); R-DARTS' pick among its variants is the rdarts-l2 / rdarts-dp method itself" : "the ground truth is S5's (docs/s5.md)",
      );
    }
  }
}

/** The jobs of one rnn benchmark (search, and train when the study has a train phase). */
export function rnnBenchmarkJobs(study: Study, b: Benchmark, index: number, source: string, res: { search: Resources; train: Resources }): Job[] {
  checkRnnPhases(study, source);
  const fields = benchmarkFields(b, source, index);
  const out: Job[] = [];
  for (const m of study.methods) {
    const searches = study.phases.search ? rnnSearchJobs(study, b, m, fields, source, res.search) : [];
    out.push(...searches.map((s) => s.job));
    if (study.phases.train) for (const s of searches) out.push(rnnTrainJob(study, b, s, source, res.train));
  }
  return out;
}

interface RnnSearch {
  job: Job;
  cfg: RnnSearchConfig;
}

function rnnSearchJobs(study: Study, b: Benchmark, m: StudyMethod, fields: Record<string, unknown>, source: string, resources: Resources): RnnSearch[] {
  return domainSearchJobs('rnn', study, b, m, fields, source, resources, (merged, label) => {
    const cfg = resolveRnnConfig(merged, undefined, label);
    return cfg;
  }, rnnSearchWork);
}

/** The flags that give a training the search's corpus (`rdarts train` reads them from flags, not from its config). */
export function rnnCorpusArgs(c: RnnSearchConfig): string[] {
  if (c.dataset === 'common-licenses') return ['--vocab-size', String(c.vocabSize)];
  return c.dataDir ? ['--data-dir', c.dataDir] : [];
}

function rnnTrainJob(study: Study, b: Benchmark, search: RnnSearch, source: string, resources: Resources): Job {
  const bname = benchmarkName(b);
  const s = search.job;
  const id = `train/${bname}/${s.method}/s${s.seed}`;
  const given = study.phases.train?.config ?? {};
  for (const k of TRAIN_FIELDS_FROM_SEARCH) {
    if (k in given) throw new ConfigError(`${source}: phases.train.config.${k}: an rnn study's training takes the cell and the corpus from its search`, 'leave it out (set the corpus on the benchmark and in phases.search.config)');
  }
  const file = mergeConfig({} as Record<string, unknown>, given, { dataset: b.dataset });
  const label = `${source}: phases.train.config (job ${id})`;
  // the searched cell is known only when the search ends: validate with a placeholder of the same shape
  const cfg = resolveRnnEvalConfig({ ...(file as Partial<RnnEvalConfig>), genotype: DEFAULT_RNN_EVAL_CONFIG.genotype, genotypeSource: 'study plan (placeholder cell DARTS_V2)' }, label);
  const configPath = configPathOf(id);
  return {
    id,
    phase: 'train',
    dir: id,
    benchmark: bname,
    space: 'rnn',
    dataset: b.dataset,
    method: s.method,
    searchMethod: s.searchMethod,
    seed: s.seed,
    grid: null,
    ...(s.sweep ? { sweep: s.sweep } : {}),
    deps: [s.id],
    configFile: { path: configPath, content: file },
    argv: ['train', '--space', 'rnn', '--genotype', s.dir, '--config', configPath, '--out', id, ...rnnCorpusArgs(search.cfg), '--quiet'],
    resumeArgv: ['train', '--resume', id, '--quiet'],
    resources,
    work: { items: [rnnTrainWork(cfg, search.cfg)] },
  };
}

/** Weight steps of one pass over the training stream: batchify into `batch` columns, windows of `bptt` (DARTS `batchify`, `get_batch`). */
function stepsPerPass(dataset: string, batch: number, bptt: number): number {
  const tokens = TEXT_TRAIN_TOKENS[dataset] ?? TEXT_TRAIN_TOKENS.ptb!;
  return Math.max(1, Math.ceil((Math.floor(tokens / batch) - 1) / bptt));
}

/**
 * The steps of one recurrent search (for the plan). A grid (rdarts-l2 / rdarts-dp) is its
 * members' searches one after another. Shape: layers = the cell's 8 nodes, channels = the hidden
 * size, imageSize = the BPTT length (the cost table has no rnn entry: the plan says so).
 */
export function rnnSearchWork(c: RnnSearchConfig): WorkItem {
  const members = isRnnGridMethod(c.method) ? (c.method === 'rdarts-l2' ? c.grid.l2.length : c.grid.dropouth.length) : 1;
  const perEpoch = Math.min(stepsPerPass(c.dataset, c.batchSize, c.bptt), c.stepsPerEpoch ?? Infinity);
  return { kind: 'search', space: 'rnn', order: c.order, layers: 8, channels: c.nhid, batchSize: c.batchSize, imageSize: c.bptt, steps: members * c.epochs * perEpoch };
}

/** The steps of one recurrent training from scratch (its corpus is the search's). */
export function rnnTrainWork(c: RnnEvalConfig, search: RnnSearchConfig): WorkItem {
  const perEpoch = Math.min(stepsPerPass(search.dataset, c.batchSize, c.bptt), c.stepsPerEpoch ?? Infinity);
  return { kind: 'train', space: 'rnn', order: null, layers: c.genotype.recurrent.length, channels: c.nhid, batchSize: c.batchSize, imageSize: c.bptt, steps: c.epochs * perEpoch };
}
