/**
 * What the expanders of the other domains' benchmarks share (study/disp.ts for S6, study/rnn.ts
 * for the recurrent cell): the job ids, config paths and labels, the merge of a search job's
 * fields (phases.search.config ← the method entry's `config:` ← benchmark, method, seed) and the
 * search job itself, one per method entry × seed. Pure.
 */
import { mergeConfig } from '../../search/config.js';
import type { Job, WorkItem } from './job.js';
import { benchmarkName, methodName, type Benchmark, type Resources, type Study, type StudyMethod } from './schema.js';

const safe = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, '_');

/** The config file of a job, relative to the study folder. */
export const configPathOf = (id: string): string => `configs/${safe(id.replace(/\//g, '__'))}.json`;

/**
 * The search jobs of one method entry of a benchmark in `space`: `resolve` turns the merged fields
 * into the domain's whole search configuration (throwing with `label` naming the job), `work`
 * counts its steps.
 */
export function domainSearchJobs<C>(
  space: 's6' | 'rnn',
  study: Study,
  b: Benchmark,
  m: StudyMethod,
  fields: Record<string, unknown>,
  source: string,
  resources: Resources,
  resolve: (merged: Record<string, unknown>, label: string) => C,
  work: (cfg: C) => WorkItem,
): Array<{ job: Job; cfg: C }> {
  const bname = benchmarkName(b);
  const mname = methodName(m);
  const method = typeof m === 'string' ? m : m.method;
  const seeds = (typeof m === 'string' ? undefined : m.seeds) ?? study.seeds;
  const methodConfig = typeof m === 'string' ? undefined : m.config;
  return seeds.map((seed) => {
    const id = `search/${bname}/${mname}/s${seed}`;
    const label = `${source}: phases.search.config${methodConfig ? ` with methods[${mname}].config` : ''} (job ${id})`;
    const merged = mergeConfig({} as Record<string, unknown>, study.phases.search?.config ?? {}, methodConfig ?? {}, { ...fields, method, seed });
    const cfg = resolve(merged, label);
    const configPath = configPathOf(id);
    const job: Job = {
      id,
      phase: 'search',
      dir: id,
      benchmark: bname,
      space,
      dataset: b.dataset,
      method: mname,
      searchMethod: method,
      seed,
      grid: null,
      ...(methodConfig ? { sweep: methodConfig } : {}),
      deps: [],
      configFile: { path: configPath, content: cfg as unknown as Record<string, unknown> },
      argv: ['search', '--space', space, '--config', configPath, '--out', id, '--quiet'],
      resumeArgv: ['search', '--resume', id, '--quiet'],
      resources,
      work: { items: [work(cfg)] },
    };
    return { job, cfg };
  });
}
