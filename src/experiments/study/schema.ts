/**
 * A study file (issue 9; docs/studies.md): the paper's experiments as data. YAML (or JSON):
 *
 *   name: table1                       # [A-Za-z0-9._-]
 *   benchmarks:                        # space × dataset (+ where the data are)
 *     - { space: s1, dataset: cifar10, dataDir: data/cifar10 }
 *   methods: [darts, darts-es]         # or { method: rdarts-l2, name?, seeds?, config? }
 *   seeds: [1, 2, 3]
 *   resources: { cpus: 4, gpus: 1, mem: 16G, time: "1-00:00:00" }   # defaults of every phase
 *   phases:                            # any phase may be left out
 *     search: { config: {…search fields…}, resources: {…} }
 *     select: { config: {…training fields…}, shortEpochs: 100, epochs: 600, trainPortion: 0.8 }
 *     train:  { config: {…training fields…}, resources: {…} }
 *
 * Validation is zod's, and every error names the field (`phases.search.resources.time: …`);
 * the per-job configurations are validated afterwards by the search and training schemas
 * (graph.ts), so a bad `phases.search.config.epochs` is reported before anything is launched.
 * Pure: reading the file is study/file.ts.
 */
import { z } from 'zod';
import { ConfigError } from '../../errors.js';
import { METHODS } from '../../search/config.js';

const NAME = /^[A-Za-z0-9._-]+$/;
const int = (min: number) => z.number().int('must be an integer').min(min, `must be ≥ ${min}`);
const config = z.record(z.string(), z.unknown());

/** Slurm-style time limit: MM, HH:MM:SS or D-HH:MM:SS (also D-HH, D-HH:MM). */
export const TIME_RE = /^(\d+-)?\d+(:\d{1,2}){0,2}$/;

export const ResourcesSchema = z
  .object({
    cpus: int(1).optional(),
    gpus: int(0).optional(),
    /** memory per job, Slurm syntax: 4000 (MB), 8G, 512M */
    mem: z.string().regex(/^\d+[KMGT]?$/, "must be a size such as '8G', '512M' or '4000' (MB)").optional(),
    /** time limit, Slurm syntax */
    time: z.string().regex(TIME_RE, "must be a time limit such as '90', '12:00:00' or '1-00:00:00'").optional(),
  })
  .strict();
export type Resources = z.infer<typeof ResourcesSchema>;

export const BenchmarkSchema = z
  .object({
    space: z.string().min(1),
    /** flyingthings3d and sintel: the disparity space s6 only (docs/disparity.md#study-table-2); ptb and common-licenses: the recurrent space rnn only (docs/lm.md#studies) */
    dataset: z.enum(['cifar10', 'cifar100', 'svhn', 'fashion-mnist', 'synthetic', 'flyingthings3d', 'sintel', 'ptb', 'common-licenses']),
    dataDir: z.string().min(1).optional(),
    /** a seeded subset of the training images (searches and trainings) */
    subset: int(2).optional(),
    /** label in job names and tables (default <space>-<dataset>) */
    name: z.string().regex(NAME, 'must be letters, digits, . _ or -').optional(),
  })
  .strict();

export const MethodSchema = z.union([
  z.enum(METHODS),
  z
    .object({
      method: z.enum(METHODS),
      /** label (default: the method); two entries of one method need different names */
      name: z.string().regex(NAME, 'must be letters, digits, . _ or -').optional(),
      /** seeds of this method (default: the study's) */
      seeds: z.array(int(0)).min(1).optional(),
      /** search fields for this method only (over phases.search.config) */
      config: config.optional(),
    })
    .strict(),
]);

const phase = {
  config: config.optional(),
  resources: ResourcesSchema.optional(),
};

export const StudySchema = z
  .object({
    name: z.string().regex(NAME, 'must be letters, digits, . _ or -'),
    description: z.string().optional(),
    /** where the numbers come from (paper-spec sections, tables, figures) */
    source: z.string().optional(),
    benchmarks: z.array(BenchmarkSchema).min(1, 'list at least one benchmark'),
    /** the search methods (at least one with a search phase; a study of only a truth phase needs none) */
    methods: z.array(MethodSchema).default([]),
    seeds: z.array(int(0)).min(1, 'list at least one seed'),
    resources: ResourcesSchema.optional(),
    phases: z
      .object({
        search: z.object(phase).strict().optional(),
        select: z
          .object({
            ...phase,
            /** epochs of the short trainings (short preset: 100) */
            shortEpochs: int(1).optional(),
            /** epochs of the winner's full training (paper preset: 600) */
            epochs: int(1).optional(),
            trainPortion: z.number().gt(0).lt(1).optional(),
          })
          .strict()
          .optional(),
        train: z.object(phase).strict().optional(),
        /** S5 ground truth (docs/s5.md): every genotype of each benchmark's one-node space trained from scratch once per seed */
        truth: z
          .object({
            ...phase,
            /** only these genotypes, by their S5 key (docs/s5.md); default: all of the space */
            genotypes: z.array(z.string().min(1)).min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((p) => p.search || p.select || p.train || p.truth, 'name at least one phase (search, select, train, truth)'),
  })
  .strict();

export type Study = z.infer<typeof StudySchema>;
export type StudyMethod = z.infer<typeof MethodSchema>;
export type Benchmark = z.infer<typeof BenchmarkSchema>;

/** Validate a parsed study file; the error lists every bad field by its path. */
export function validateStudy(raw: unknown, source = 'study'): Study {
  const r = StudySchema.safeParse(raw);
  if (r.success) {
    const s = r.data;
    if (!s.methods.length && (s.phases.search || s.phases.select || s.phases.train)) throw new ConfigError(`${source} is not a valid study:\n  methods: list at least one method`, 'fix the named field(s); docs/studies.md describes every field');
    const names = new Set<string>();
    s.methods.forEach((m, i) => {
      const n = methodName(m);
      if (names.has(n)) throw new ConfigError(`${source}: methods.${i}: a second entry named '${n}'`, 'give one of them another `name:`');
      names.add(n);
    });
    const bn = new Set<string>();
    s.benchmarks.forEach((b, i) => {
      const n = benchmarkName(b);
      if (bn.has(n)) throw new ConfigError(`${source}: benchmarks.${i}: a second benchmark named '${n}'`, 'give one of them another `name:`');
      bn.add(n);
    });
    return s;
  }
  const lines = r.error.issues.map((i) => {
    const path = i.path.length ? i.path.join('.') : '(top level)';
    let msg = i.message;
    if (i.code === 'unrecognized_keys') msg = `unknown field(s) ${(i as { keys?: string[] }).keys?.map((k) => `'${k}'`).join(', ')}`;
    return `  ${path}: ${msg}`;
  });
  throw new ConfigError(`${source} is not a valid study:\n${lines.join('\n')}`, 'fix the named field(s); docs/studies.md describes every field');
}

export function methodName(m: StudyMethod): string {
  return typeof m === 'string' ? m : (m.name ?? m.method);
}

export function benchmarkName(b: Benchmark): string {
  return b.name ?? `${b.space}-${b.dataset}`;
}
