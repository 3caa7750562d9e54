/**
 * Studies on the disparity space S6 (issue 13, docs/disparity.md#study-table-2; paper-spec §3.7,
 * §11.4): a benchmark `{ space: s6, dataset: synthetic | flyingthings3d | sintel, dataDir }`
 * expands into
 *
 *   search  one per method entry × seed: `rdarts search --space s6 --config configs/<job>.json
 *           --out search/<bench>/<method>/s<seed>` (resumed with `rdarts search --resume <dir>`);
 *           the config is the whole S6 search configuration resolved here by resolveDispConfig
 *           (phases.search.config ← the method entry's `config:` ← benchmark, method, seed), so a
 *           bad field is reported, named, before anything is launched;
 *   train   one per search, after it: `rdarts train --space s6 --genotype <search dir> --config
 *           configs/<job>.json --out train/<bench>/<method>/s<seed>` (resumed with `--resume`).
 *           At run time the search folder lends the training its network size and data
 *           (cli/commands/disp-train.ts), under the job's config; here the same merge is done
 *           with the search's resolved configuration and a placeholder cell of its node count,
 *           and validated by resolveDispEvalConfig.
 *
 * The select phase (a pick among several searches by short trainings, paper-spec §9) and the
 * truth phase are CNN protocols and are refused for S6 (the error names the phase). The
 * method entries' `config:` carry the sweep (Table 2's "Aug." and "L2" blocks:
 * `{ method: darts, name: aug-1, config: { augment: 1 } }`); the table shows them per entry.
 * Pure: nothing is read or written.
 */
import { ConfigError } from '../../errors.js';
import { mergeConfig } from '../../search/config.js';
import { resolveDispConfig, type DispSearchConfig } from '../../search/disp/config.js';
import { resolveDispEvalConfig, type DispEvalConfig } from '../../search/disp/eval.js';
import { cellEdges, cellInputs, deriveDispGenotype, dispGenotypeToJSON, S6_OPS } from '../../nas/disp/genotype.js';
import { dispLayout } from '../../nas/disp/model.js';
import type { Job, WorkItem } from './job.js';
import { configPathOf, domainSearchJobs } from './domain-jobs.js';
import { benchmarkName, type Benchmark, type Resources, type Study, type StudyMethod } from './schema.js';

/** Is this benchmark's space the disparity space? */
export function isDispSpace(space: string): boolean {
  return space.trim().toLowerCase() === 's6';
}

/**
 * Stereo pairs of the real datasets' training sets, for step counts when `limit` is not set:
 * FlyingThings3D TRAIN 22,390 pairs (Mayer et al., CVPR 2016, the Scene Flow datasets' page);
 * MPI Sintel stereo training 1,064 pairs (Butler et al., ECCV 2012; 23 scenes).
 */
export const STEREO_TRAIN_PAIRS: Record<string, number> = { flyingthings3d: 22390, sintel: 1064 };


function benchmarkFields(b: Benchmark, source: string, index: number): Record<string, unknown> {
  if (b.subset !== undefined) throw new ConfigError(`${source}: benchmarks.${index}.subset: does not apply to space s6`, 'limit the stereo pairs with `limit:` in phases.search.config / phases.train.config');
  return { space: 's6', dataset: b.dataset, ...(b.dataDir ? { dataDir: b.dataDir } : {}) };
}

/** Refuse the phases S6 does not have (select, truth), naming the phase; called before any other check of the study. */
export function checkDispPhases(study: Study, source: string): void {
  const b = study.benchmarks.find((x) => isDispSpace(x.space));
  if (!b) return;
  for (const ph of ['select', 'truth'] as const) {
    if (study.phases[ph]) throw new ConfigError(`${source}: phases.${ph}: the ${ph} phase is not supported for space s6 (benchmark ${benchmarkName(b)})`, ph === 'select' ? "an S6 study trains each search's cell once: use phases.train" : "the ground truth is S5's (docs/s5.md)");
  }
}

/** The jobs of one S6 benchmark (search, and train when the study has a train phase). */
export function dispBenchmarkJobs(study: Study, b: Benchmark, index: number, source: string, res: { search: Resources; train: Resources }): Job[] {
  const p = study.phases;
  checkDispPhases(study, source);
  const fields = benchmarkFields(b, source, index);
  const out: Job[] = [];
  for (const m of study.methods) {
    const searches = p.search ? dispSearchJobs(study, b, m, fields, source, res.search) : [];
    out.push(...searches.map((s) => s.job));
    if (p.train) for (const s of searches) out.push(dispTrainJob(study, b, fields, s, source, res.train));
  }
  return out;
}

interface DispSearch {
  job: Job;
  cfg: DispSearchConfig;
}

function dispSearchJobs(study: Study, b: Benchmark, m: StudyMethod, fields: Record<string, unknown>, source: string, resources: Resources): DispSearch[] {
  return domainSearchJobs('s6', study, b, m, fields, source, resources, (merged, label) => {
    const cfg = resolveDispConfig(merged, undefined, label);
    checkDispShape(label, 'phases.search.config', { ...cfg.network }, cfg.crop, cfg.dataset, cfg.synthetic);
    return cfg;
  }, dispSearchWork);
}

/** What a search folder lends its training (as cli/commands/disp-train.ts does with the folder's config.json). */
export function dispSearchLends(c: DispSearchConfig): Record<string, unknown> {
  const n = c.network;
  return {
    dataset: c.dataset,
    dataDir: c.dataDir,
    limit: c.limit,
    downscale: c.downscale,
    crop: c.crop,
    network: { C: n.C, stemMultiplier: n.stemMultiplier, featureDepth: n.featureDepth, encoderDepth: n.encoderDepth, decoderDepth: n.decoderDepth, maxDisplacement: n.maxDisplacement },
    synthetic: { n: c.synthetic.n, height: c.synthetic.height, width: c.synthetic.width, maxDisparity: c.synthetic.maxDisparity, seed: c.synthetic.seed },
  };
}

/** A placeholder cell with `steps` nodes (the searched cell is known only when the search ends). */
function placeholderGenotype(steps: number): Record<string, unknown> {
  const zeros = (cell: 'normal' | 'reduce' | 'upsample'): number[][] => Array.from({ length: cellEdges(cellInputs(cell), steps) }, () => S6_OPS.map(() => 0));
  return dispGenotypeToJSON(deriveDispGenotype({ normal: zeros('normal'), reduce: zeros('reduce'), upsample: zeros('upsample') }, steps)) as unknown as Record<string, unknown>;
}

function dispTrainJob(study: Study, b: Benchmark, fields: Record<string, unknown>, search: DispSearch, source: string, resources: Resources): Job {
  const bname = benchmarkName(b);
  const s = search.job;
  const id = `train/${bname}/${s.method}/s${s.seed}`;
  const file = mergeConfig({} as Record<string, unknown>, study.phases.train?.config ?? {}, fields);
  const label = `${source}: phases.train.config (job ${id})`;
  const cfg = resolveDispEvalConfig(mergeConfig(dispSearchLends(search.cfg), file, undefined), { space: 's6', genotype: placeholderGenotype(search.cfg.network.steps), genotypeSource: 'study plan (placeholder cell)', searchRun: null }, label);
  checkDispShape(label, 'phases.train.config', { ...cfg.network, steps: search.cfg.network.steps }, cfg.crop, cfg.dataset, cfg.synthetic);
  const configPath = configPathOf(id);
  return {
    id,
    phase: 'train',
    dir: id,
    benchmark: bname,
    space: 's6',
    dataset: b.dataset,
    method: s.method,
    searchMethod: s.searchMethod,
    seed: s.seed,
    grid: null,
    ...(s.sweep ? { sweep: s.sweep } : {}),
    deps: [s.id],
    configFile: { path: configPath, content: file },
    argv: ['train', '--space', 's6', '--genotype', s.dir, '--config', configPath, '--out', id, '--quiet'],
    resumeArgv: ['train', '--resume', id, '--quiet'],
    resources,
    work: { items: [dispTrainWork(cfg)] },
  };
}

/**
 * What the trainers would refuse only once running, checked here: the network's layout (decoder
 * no deeper than the encoder), and on the synthetic set (whose frame size is known) a crop that
 * fits the frames and a crop (or frame) divisible by 2^(deepest scale).
 */
function checkDispShape(label: string, prefix: string, network: Parameters<typeof dispLayout>[0], crop: [number, number] | null, dataset: string, syn: { height: number; width: number }): void {
  let deepest: number;
  try {
    deepest = dispLayout(network).deepestLevel;
  } catch (e) {
    throw new ConfigError(`${label}: ${(e as Error).message}`, `fix ${prefix}.network`);
  }
  if (dataset !== 'synthetic') return;
  if (crop && (crop[0] > syn.height || crop[1] > syn.width)) {
    throw new ConfigError(`${label}: crop ${crop[0]}×${crop[1]} is larger than the synthetic frames (${syn.height}×${syn.width})`, `set ${prefix}.crop to null (whole frames) or to at most [${syn.height}, ${syn.width}]`);
  }
  const [h, w] = crop ?? [syn.height, syn.width];
  const f = 2 ** deepest;
  if (h % f || w % f) throw new ConfigError(`${label}: the ${crop ? 'crop' : 'frame size'} ${h}×${w} is not a multiple of ${f} (2^${deepest}, the network's deepest scale)`, `set ${prefix}.${crop ? 'crop' : 'synthetic height and width'} to multiples of ${f}`);
}

const pairs = (dataset: string, synthetic: number, limit: number | null): number => {
  const all = dataset === 'synthetic' ? synthetic : STEREO_TRAIN_PAIRS[dataset]!;
  return limit === null ? all : Math.min(all, limit);
};

/** The input resolution of a step: the crop, else the (downscaled) images; as the side of a square of as many pixels. */
function side(crop: [number, number] | null, dataset: string, syn: { height: number; width: number }, downscale: number): number {
  if (crop) return Math.round(Math.sqrt(crop[0] * crop[1]));
  // FlyingThings3D and Sintel frames: 540 × 960 and 436 × 1024 (their papers)
  const [h, w] = dataset === 'synthetic' ? [syn.height, syn.width] : dataset === 'sintel' ? [436, 1024] : [540, 960];
  return Math.round(Math.sqrt((h / downscale) * (w / downscale)));
}

/** The steps of one S6 search (for the plan; the step time of S6 is not in the measured table). */
export function dispSearchWork(c: DispSearchConfig): WorkItem {
  const n = pairs(c.dataset, c.synthetic.n, c.limit);
  const perEpoch = Math.max(1, Math.ceil(Math.floor(n * c.trainPortion) / c.batchSize));
  return {
    kind: 'search',
    space: 's6',
    order: c.order,
    layers: c.network.encoderDepth + c.network.decoderDepth,
    channels: c.network.C,
    batchSize: c.batchSize,
    imageSize: side(c.crop, c.dataset, c.synthetic, c.downscale),
    steps: c.epochs * Math.min(perEpoch, c.stepsPerEpoch ?? Infinity),
  };
}

/** The steps of one S6 training from scratch. */
export function dispTrainWork(c: DispEvalConfig): WorkItem {
  const n = pairs(c.dataset, c.synthetic.n, c.limit);
  const perEpoch = Math.max(1, Math.ceil(n / c.batchSize));
  return {
    kind: 'train',
    space: 's6',
    order: null,
    layers: c.network.encoderDepth + c.network.decoderDepth,
    channels: c.network.C,
    batchSize: c.batchSize,
    imageSize: side(c.crop, c.dataset, c.synthetic, c.downscale),
    steps: c.epochs * Math.min(perEpoch, c.stepsPerEpoch ?? Infinity),
  };
}
