/**
 * Recurrent-cell searches from a resolved configuration to a result (docs/lm.md#search): load
 * the corpus, create (or reopen) the run folder, compose the method's plug-ins, train, write
 * result.json; resume from the newest checkpoint; and R-DARTS on the recurrent space as a loop of
 * ordinary searches, one per grid value, the candidate picked by the search model's final
 * validation perplexity (docs/lm.md#r-darts). Never prints (events go to `onEvent`).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { loadTextCorpus, type TextCorpus } from '../data/index.js';
import { ConfigError } from '../errors.js';
import { isRnnGridMethod, validateRnnConfig, type RnnSearchConfig } from '../search/rnn/config.js';
import { buildRnnPlugins } from '../search/rnn/methods.js';
import { RnnSearchTrainer, type RnnSearchEvent, type RnnSearchResult } from '../search/rnn/trainer.js';
import { writeFileAtomic } from '../util/fs.js';
import { withRunLock } from './lock.js';
import { RunDir } from './run-dir.js';
import { RUN_FILES } from './run-format.js';
import { resumeInFolder, startInFolder } from './search-folder.js';

export interface RnnRunOptions {
  /** run folder; null = in memory */
  out: string | null;
  onEvent?: (e: RnnSearchEvent) => void;
  /** a corpus already loaded (tests, grids) */
  corpus?: TextCorpus;
}

export async function loadRnnCorpus(cfg: RnnSearchConfig): Promise<TextCorpus> {
  return loadTextCorpus(cfg.dataset, { dataDir: cfg.dataDir, download: cfg.download, vocabSize: cfg.vocabSize });
}

/** Is `dir` a run folder (or grid folder) of a recurrent search? */
export function isRnnRun(dir: string): boolean {
  const p = join(resolve(dir), RUN_FILES.config);
  if (!existsSync(p)) return false;
  try {
    return (JSON.parse(readFileSync(p, 'utf8')) as { space?: unknown }).space === 'rnn';
  } catch {
    return false;
  }
}

/** Start a search in `o.out` (which must not hold a run), holding the folder's lock. */
export async function runRnnSearch(cfg: RnnSearchConfig, o: RnnRunOptions): Promise<RnnSearchResult> {
  if (isRnnGridMethod(cfg.method)) throw new ConfigError(`method ${cfg.method} is a grid of darts searches`, 'run it with runRnnGrid, as `rdarts search --space rnn` does');
  return o.out ? withRunLock(o.out, { what: 'search' }, () => startRnn(cfg, o)) : startRnn(cfg, o);
}

async function startRnn(cfg: RnnSearchConfig, o: RnnRunOptions): Promise<RnnSearchResult> {
  const onEvent = o.onEvent ? { onEvent: o.onEvent } : {};
  return startInFolder(o.out, async () => o.corpus ?? (await loadRnnCorpus(cfg)), (corpus, recorder) => new RnnSearchTrainer(cfg, corpus, { plugins: buildRnnPlugins(cfg), recorder, ...onEvent }));
}

/** The configuration a run folder's config.json holds (the fields describe() adds removed). */
export function readRnnRunConfig(dir: string): { cfg: RnnSearchConfig; fingerprint: string | null } {
  const runDir = new RunDir(dir);
  const saved = runDir.readConfig<Record<string, unknown>>();
  const { library: _l, dataFingerprint, vocabulary: _v, tokens: _t, parameters: _p, alphas: _a, ...rest } = saved;
  const cfg = validateRnnConfig(rest, runDir.file(RUN_FILES.config));
  return { cfg, fingerprint: typeof dataFingerprint === 'string' ? dataFingerprint : null };
}

/** Continue the run in `dir` from its newest intact checkpoint with the configuration it started with. */
export async function resumeRnnSearch(dir: string, o: Omit<RnnRunOptions, 'out'> = {}): Promise<RnnSearchResult> {
  return withRunLock(dir, { what: 'search' }, () => {
    const { cfg, fingerprint } = readRnnRunConfig(dir);
    if (isRnnGridMethod(cfg.method)) throw new ConfigError(`${new RunDir(dir).path} is a ${cfg.method} grid`, 'continue it with runRnnGrid (the same `rdarts search` command, or --resume on the grid folder)');
    const onEvent = o.onEvent ? { onEvent: o.onEvent } : {};
    return resumeInFolder(dir, fingerprint, 'corpus files', async () => o.corpus ?? (await loadRnnCorpus(cfg)), (corpus, recorder) => new RnnSearchTrainer(cfg, corpus, { plugins: buildRnnPlugins(cfg), recorder, ...onEvent }), o.onEvent);
  });
}

// ------------------------------------------------------------------------------ R-DARTS

export interface RnnGridMember {
  name: string;
  value: number;
  dir: string;
  status: 'finished' | 'unfinished' | 'pending';
  weightDecay: number;
  dropouth: number;
  repr: string | null;
  finalValidPpl: number | null;
  stopReason: string | null;
}

export interface RnnGridResult {
  space: 'rnn';
  method: 'rdarts-l2' | 'rdarts-dp';
  root: string;
  members: RnnGridMember[];
  complete: boolean;
  /** the member with the lowest final validation perplexity of its search model (null until all finished) */
  selected: string | null;
  selection: string;
}

/** The members of an R-DARTS grid: one darts search per L2 (rdarts-l2) or per cell dropout dropouth (rdarts-dp). */
export function planRnnGrid(cfg: RnnSearchConfig, root: string): Array<{ name: string; value: number; dir: string; cfg: RnnSearchConfig }> {
  if (!isRnnGridMethod(cfg.method)) throw new ConfigError(`method ${cfg.method} is not a grid`);
  const l2 = cfg.method === 'rdarts-l2';
  const values = l2 ? cfg.grid.l2 : cfg.grid.dropouth;
  const names = values.map((v) => `${l2 ? 'l2' : 'dph'}_${String(v)}`);
  if (new Set(names).size !== names.length) throw new ConfigError(`grid values repeat: ${values.join(', ')}`, 'list each value once');
  return values.map((v, i) => ({
    name: names[i]!,
    value: v,
    dir: join(resolve(root), RUN_FILES.members, names[i]!),
    cfg: { ...cfg, method: 'darts', ...(l2 ? { weightDecay: v } : { dropouth: v }) },
  }));
}

function readJson(p: string): Record<string, unknown> | null {
  if (!existsSync(p)) return null;
  try {
    return JSON.parse(readFileSync(p, 'utf8')) as Record<string, unknown>;
  } catch {
    return null;
  }
}

/**
 * Run (or continue) an R-DARTS grid in `root`: members one after another; a finished member is
 * skipped, an unfinished one resumed. A different configuration in an existing grid folder is refused.
 */
export async function runRnnGrid(cfg: RnnSearchConfig, root: string, o: Omit<RnnRunOptions, 'out'> = {}): Promise<RnnGridResult> {
  return withRunLock(root, { what: 'grid' }, async () => {
    const dir = new RunDir(root).ensure();
    const existing = readJson(dir.file(RUN_FILES.config));
    if (existing) {
      const { cfg: before } = readRnnRunConfig(root);
      if (JSON.stringify(before) !== JSON.stringify(cfg)) {
        throw new ConfigError(`${dir.path} holds an R-DARTS grid with another configuration`, 'continue it with `rdarts search --resume` on that folder, or choose another --out');
      }
    } else {
      dir.writeConfig(cfg);
    }
    const plan = planRnnGrid(cfg, root);
    const corpus = o.corpus ?? (await loadRnnCorpus(cfg));
    for (const m of plan) {
      const status = memberStatus(m.dir);
      if (status === 'finished') continue;
      o.onEvent?.({ type: 'note', message: `R-DARTS ${cfg.method}: member ${m.name} (${status === 'unfinished' ? 'resuming' : 'starting'})` });
      if (status === 'unfinished') await resumeRnnSearch(m.dir, { ...o, corpus });
      else await runRnnSearch(m.cfg, { ...o, out: m.dir, corpus });
    }
    return summariseRnnGrid(cfg, root, true);
  });
}

/** Continue the grid in `root` with its own configuration. */
export async function resumeRnnGrid(root: string, o: Omit<RnnRunOptions, 'out'> = {}): Promise<RnnGridResult> {
  const { cfg } = readRnnRunConfig(root);
  return runRnnGrid(cfg, root, o);
}

function memberStatus(dir: string): RnnGridMember['status'] {
  if (existsSync(join(dir, RUN_FILES.result))) return 'finished';
  return existsSync(join(dir, RUN_FILES.config)) ? 'unfinished' : 'pending';
}

/** grid.json and (when complete) result.json of the grid folder; returns the summary. */
export function summariseRnnGrid(cfg: RnnSearchConfig, root: string, write: boolean): RnnGridResult {
  const members: RnnGridMember[] = planRnnGrid(cfg, root).map((m) => {
    const r = readJson(join(m.dir, RUN_FILES.result));
    const fv = r?.finalValid as { ppl?: number } | null | undefined;
    return {
      name: m.name,
      value: m.value,
      dir: m.dir,
      status: memberStatus(m.dir),
      weightDecay: m.cfg.weightDecay,
      dropouth: m.cfg.dropouth,
      repr: typeof r?.repr === 'string' ? r.repr : null,
      finalValidPpl: typeof fv?.ppl === 'number' ? fv.ppl : null,
      stopReason: typeof r?.stopReason === 'string' ? r.stopReason : null,
    };
  });
  const complete = members.every((m) => m.status === 'finished');
  let selected: string | null = null;
  if (complete) {
    let best = Infinity;
    for (const m of members) if (m.finalValidPpl !== null && m.finalValidPpl < best) [best, selected] = [m.finalValidPpl, m.name];
  }
  const result: RnnGridResult = {
    space: 'rnn',
    method: cfg.method as RnnGridResult['method'],
    root: resolve(root),
    members,
    complete,
    selected,
    selection: complete ? 'lowest final validation perplexity of the search model' : 'pending: not every member has finished',
  };
  if (write) {
    writeFileAtomic(join(resolve(root), RUN_FILES.grid), JSON.stringify(result, null, 2) + '\n');
    if (complete) writeFileAtomic(join(resolve(root), RUN_FILES.result), JSON.stringify(result, null, 2) + '\n');
  }
  return result;
}
