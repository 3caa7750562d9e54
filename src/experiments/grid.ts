/**
 * R-DARTS grids (docs/methods.md#r-darts): `rdarts-l2` and `rdarts-dp` run one DARTS search per
 * regularisation value — L2 (`grid.l2`, default 3e-4·{1,3,9,27}) or drop path (`grid.dropPath`,
 * default {0, 0.2, 0.4, 0.6}; cutout follows drop path on the same ramp, as the reference, unless
 * `cutout` says otherwise) — and collect the candidates. The final pick ("short retraining,
 * choose by validation") needs the evaluation pipeline and is left to a later step: grid.json
 * and result.json carry everything it needs.
 *
 * Layout of a grid run folder:
 *   <run>/config.json   the grid's configuration (method rdarts-l2 / rdarts-dp)
 *   <run>/runs/<name>/  one ordinary run folder per value (method darts): l2_3e-4, dp_0.2, …
 *   <run>/grid.json     the members: value, folder, status, genotype, final validation
 *                       accuracy, λ_max trajectory mean/final, discretisation drop
 *   <run>/result.json   all candidates; selection "pending: needs evaluation pipeline"
 *
 * The grid is split into plan → members → collect so that an executor (a process pool, Slurm)
 * can run the members independently: `planGrid` is pure, `runGridMember` starts, resumes or
 * skips one member in its own folder, and `collectGrid` reads the folders back. A member is
 * finished when its result.json exists (skipped), unfinished when only its config.json exists
 * (resumed from its newest checkpoint), pending otherwise (started).
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { RunDir, readJsonLines } from './run-dir.js';
import { ConfigError, CheckpointError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { VERSION } from '../version.js';
import { genotypeFromJSON } from '../nas/genotype-json.js';
import { formatGenotypeRepr } from '../nas/repr.js';
import { validateConfig, type SearchConfig } from '../search/config.js';
import type { ImageDataset } from '../data/index.js';
import type { SearchEvent } from '../search/trainer.js';
import { RUN_FILES, resultSchema } from './run-format.js';
import { loadSearchData, resumeSearch, runSearch } from './search-run.js';
import { isGridMethod, planGrid, type GridMember, type GridMethod, type GridPlan } from './grid-plan.js';
import { withRunLock } from './lock.js';

export { GRID_METHODS, isGridMethod, memberName, planGrid, type GridMember, type GridMethod, type GridPlan } from './grid-plan.js';

export const GRID_SELECTION_PENDING = 'pending: needs evaluation pipeline';

export type MemberStatus = 'finished' | 'unfinished' | 'pending';

export interface GridMemberSummary {
  name: string;
  parameter: 'weightDecay' | 'dropPath';
  value: number;
  /** relative to the grid folder */
  dir: string;
  status: MemberStatus;
  weightDecay: number;
  dropPath: number;
  cutout: string;
  genotype: unknown | null;
  repr: string | null;
  stopReason: string | null;
  epochsRun: number | null;
  finalValidAcc: number | null;
  eigenvalue: { mean: number; final: number; count: number } | null;
  discretization: { softAcc: number; discreteAcc: number; drop: number } | null;
}

export function memberStatus(m: Pick<GridMember, 'dir'>): MemberStatus {
  if (existsSync(join(m.dir, RUN_FILES.result))) return 'finished';
  if (existsSync(join(m.dir, RUN_FILES.config))) return 'unfinished';
  return 'pending';
}

export interface GridRunOptions {
  onEvent?: (e: SearchEvent) => void;
  /** pre-loaded training data shared by all members */
  data?: ImageDataset;
}

/** Run one member to its end: start it, resume it, or skip it when finished. Returns the status it had. */
export async function runGridMember(m: GridMember, o: GridRunOptions = {}): Promise<MemberStatus> {
  const status = memberStatus(m);
  const opts = { ...(o.onEvent ? { onEvent: o.onEvent } : {}), ...(o.data ? { data: o.data } : {}) };
  if (status === 'finished') return status;
  if (status === 'unfinished') {
    const saved = new RunDir(m.dir).readConfig<Record<string, unknown>>();
    if (saved[m.parameter] !== m.value || saved.method !== 'darts') {
      throw new ConfigError(`${m.dir} holds a run with ${m.parameter} ${String(saved[m.parameter])}, method ${String(saved.method)}, not this grid member (${m.parameter} ${m.value})`, 'move the folder away or use another --out');
    }
    await resumeSearch(m.dir, opts);
  } else {
    await runSearch(m.config, { out: m.dir, ...opts });
  }
  return status;
}

function readJson(path: string): Record<string, unknown> | null {
  if (!existsSync(path)) return null;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
  } catch (e) {
    throw new CheckpointError(`${path} is not valid JSON: ${(e as Error).message}`, 'rerun the grid member or restore the file');
  }
}

/** What grid.json records about one member, read from its folder. */
export function summarizeMember(root: string, m: GridMember): GridMemberSummary {
  const status = memberStatus(m);
  const raw = readJson(join(m.dir, RUN_FILES.result));
  const result = raw ? resultSchema.parse(raw) : null;
  const metrics = readJsonLines(join(m.dir, RUN_FILES.metrics));
  // a darts member has no rollbacks: its Hessian lines are its trajectory
  const ev = metrics.filter((l) => l.kind === 'hessian' && typeof l.maxEigenvalue === 'number').map((l) => l.maxEigenvalue as number);
  const epochs = metrics.filter((l) => l.kind === 'epoch');
  const lastEpoch = epochs[epochs.length - 1] as { valid?: { acc?: number } } | undefined;
  const discLines = metrics.filter((l) => l.kind === 'discretization');
  const disc = (result?.discretization ?? discLines[discLines.length - 1] ?? null) as { softAcc: number; discreteAcc: number; drop: number } | null;
  let repr: string | null = null;
  if (result?.genotype) repr = result.repr ?? formatGenotypeRepr(genotypeFromJSON(result.genotype));
  const finalValid = result?.finalValid?.acc ?? lastEpoch?.valid?.acc ?? null;
  return {
    name: m.name,
    parameter: m.parameter,
    value: m.value,
    dir: relative(root, m.dir),
    status,
    weightDecay: m.config.weightDecay,
    dropPath: m.config.dropPath,
    cutout: m.config.cutout === 'auto' ? (m.config.dropPath > 0 ? 'on (ramped with drop path)' : 'off') : m.config.cutout,
    genotype: result?.genotype ?? null,
    repr,
    stopReason: result?.stopReason ?? null,
    epochsRun: result?.epochsRun ?? (epochs.length || null),
    finalValidAcc: typeof finalValid === 'number' ? finalValid : null,
    eigenvalue: ev.length ? { mean: ev.reduce((a, b) => a + b, 0) / ev.length, final: ev[ev.length - 1]!, count: ev.length } : null,
    discretization: disc ? { softAcc: disc.softAcc, discreteAcc: disc.discreteAcc, drop: disc.drop } : null,
  };
}

export interface GridResult {
  method: GridMethod;
  root: string;
  members: GridMemberSummary[];
  complete: boolean;
  selection: string;
}

/** Read the members back and write grid.json (and result.json once every member has finished). */
export function collectGrid(plan: GridPlan): GridResult {
  const members = plan.members.map((m) => summarizeMember(plan.root, m));
  const complete = members.every((m) => m.status === 'finished');
  const parameter = plan.members[0]?.parameter ?? 'weightDecay';
  const grid = {
    method: plan.method,
    parameter,
    values: plan.members.map((m) => m.value),
    complete,
    selection: GRID_SELECTION_PENDING,
    runs: members,
  };
  writeFileAtomic(join(plan.root, RUN_FILES.grid), JSON.stringify(grid, null, 2) + '\n');
  if (complete) {
    writeFileAtomic(
      join(plan.root, RUN_FILES.result),
      JSON.stringify(
        {
          method: plan.method,
          genotype: null,
          stopReason: 'completed',
          selection: GRID_SELECTION_PENDING,
          selectionNote: 'R-DARTS picks one candidate by short retraining from scratch and validation (paper-spec §7.3); that needs the evaluation pipeline',
          candidates: members.map((m) => ({ name: m.name, [parameter]: m.value, dir: m.dir, genotype: m.genotype, repr: m.repr, finalValidAcc: m.finalValidAcc, eigenvalue: m.eigenvalue, discretization: m.discretization })),
        },
        null,
        2,
      ) + '\n',
    );
  }
  return { method: plan.method, root: plan.root, members, complete, selection: GRID_SELECTION_PENDING };
}

function gridConfigText(cfg: SearchConfig): string {
  return JSON.stringify(cfg);
}

/** Does `dir` hold a grid run (its config.json names a grid method)? */
export function isGridRun(dir: string): boolean {
  const cfg = readJson(join(resolve(dir), RUN_FILES.config));
  return typeof cfg?.method === 'string' && isGridMethod(cfg.method);
}

/**
 * Run a grid sequentially in this process. Calling it again on the same folder with the same
 * configuration continues: finished members are skipped, an unfinished one is resumed.
 * A different configuration in an existing grid folder is refused.
 */
export async function runGrid(cfg: SearchConfig, out: string, o: GridRunOptions = {}): Promise<GridResult> {
  return withRunLock(out, { what: 'grid' }, () => gridLocked(cfg, out, o));
}

async function gridLocked(cfg: SearchConfig, out: string, o: GridRunOptions): Promise<GridResult> {
  const root = new RunDir(out);
  if (root.exists()) {
    const saved = root.readConfig<Record<string, unknown>>();
    const { library: _l, ...rest } = saved;
    const savedCfg = validateConfig(rest, join(root.path, RUN_FILES.config));
    if (gridConfigText(savedCfg) !== gridConfigText(cfg)) {
      const diff = Object.keys(cfg).filter((k) => JSON.stringify((cfg as Record<string, unknown>)[k]) !== JSON.stringify((savedCfg as Record<string, unknown>)[k]));
      throw new ConfigError(`${root.path} holds a grid with another configuration (differs in: ${diff.join(', ')})`, `continue it with --resume ${out}, or choose another --out`);
    }
  } else {
    root.ensure();
    root.writeConfig({ ...cfg, library: { name: 'robust-darts', version: VERSION } });
  }
  const plan = planGrid(cfg, root.path);
  let data = o.data;
  for (const m of plan.members) {
    const status = memberStatus(m);
    o.onEvent?.({ type: 'note', message: `grid ${plan.method}: ${m.name} (${m.parameter} ${m.value}) — ${status === 'finished' ? 'finished, skipped' : status === 'unfinished' ? 'resuming' : 'starting'}` });
    if (status === 'finished') continue;
    if (!data) data = await loadSearchData(cfg);
    await runGridMember(m, { ...o, data });
    collectGrid(plan);
  }
  return collectGrid(plan);
}

/** Continue the grid in `dir` with the configuration it was started with. */
export async function resumeGrid(dir: string, o: GridRunOptions = {}): Promise<GridResult> {
  const root = new RunDir(dir);
  const { library: _l, ...rest } = root.readConfig<Record<string, unknown>>();
  const cfg = validateConfig(rest, join(root.path, RUN_FILES.config));
  return runGrid(cfg, dir, o);
}
