/**
 * The job types of a study's graph (study/graph.ts expands a study into them; study/disp.ts the
 * S6 benchmarks). Kept apart so both expanders share them without an import cycle.
 */
import type { Resources } from './schema.js';

export const PHASES = ['search', 'select', 'train'] as const;
export type Phase = (typeof PHASES)[number];

export interface Job {
  /** unique, also the run folder relative to the study folder: search/s1-cifar10/darts/s1 */
  id: string;
  phase: Phase;
  dir: string;
  benchmark: string;
  space: string;
  dataset: string;
  method: string;
  /** the method the searches run (the column of the paper's tables): rdarts-l2 for its darts grid members */
  searchMethod: string;
  /** the search seed (null for select jobs, which span seeds) */
  seed: number | null;
  /** grid member of rdarts-l2 / rdarts-dp: the regularisation value */
  grid: { parameter: 'weightDecay' | 'dropPath'; value: number } | null;
  /** S6 studies: the method entry's `config:` (the sweep value of Table 2's Aug. / L2 blocks); absent otherwise */
  sweep?: Record<string, unknown>;
  /** jobs that must finish first */
  deps: string[];
  /** the config file this job reads (relative path, JSON text written by the executor), or null */
  configFile: { path: string; content: Record<string, unknown> } | null;
  /** arguments of `rdarts` that start the job (cwd = the study folder) */
  argv: string[];
  /** arguments that continue it when its folder holds an unfinished run (null: `argv` continues it) */
  resumeArgv: string[] | null;
  resources: Resources;
  /** what the cost estimate needs */
  work: JobWork;
}

/** The shape of one training step, which sets its cost (search: space and order; train: layers and channels). */
export interface StepShape {
  kind: 'search' | 'train';
  /** search: the space (its ops per edge set the cost); train: 'eval' */
  space: string;
  order: 'first' | 'second' | null;
  layers: number;
  channels: number;
  batchSize: number;
  imageSize: number;
}

/** Steps of one kind of network for the cost estimate. */
export interface WorkItem extends StepShape {
  /** the phase this work counts under in the estimate when not the job's own (a select job's final training: 'train') */
  accountAs?: Phase;
  steps: number;
}
export interface JobWork {
  items: WorkItem[];
}

export interface JobGraph {
  study: string;
  jobs: Job[];
  /** job ids per phase, in order */
  phases: Record<Phase, string[]>;
}

