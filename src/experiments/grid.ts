/**
 * R-DARTS grids (docs/methods.md#r-darts): `rdarts-l2` and `rdarts-dp` run one DARTS search per
 * regularisation value — L2 (`grid.l2`, default 3e-4·{1,3,9,27}) or drop path (`grid.dropPath`,
 * default {0, 0.2, 0.4, 0.6}; cutout follows drop path on the same ramp, as the reference, unless
 * `cutout` says otherwise) — and collect the candidates. The pick among them (short training from
 * scratch, choose by validation: paper-spec §7.3) is `rdarts select` (experiments/select.ts);
 * grid.json and result.json name the exact command (`selectCommand`); with `select` the grid runs
 * it itself, as one more job of its pool after the members (`gridSelectJob`). Either way the
 * selection folder is `<grid>-select` and its pick becomes the grid's `selection` / `selected`.
 *
 * A grid is a one-benchmark study: its members are search jobs (`gridJobs`: one `rdarts search`
 * command and one run folder each) run by the study's local worker pool (study/local.ts
 * `runJobsLocal`), side by side with `workers` > 1, each worker with cores/workers threads, a
 * member whose process dies resumed from its checkpoint up to `retries` more times.
 *
 * Layout of a grid run folder:
 *   <run>/config.json          the grid's configuration (method rdarts-l2 / rdarts-dp)
 *   <run>/runs/<name>/         one ordinary run folder per value (method darts): l2_3e-4, dp_0.2, …
 *   <run>/grid.json            the members: value, folder, status, genotype, final validation
 *                              accuracy, λ_max trajectory mean/final, discretisation drop
 *   <run>/result.json          all candidates (once every member has finished); selection
 *                              "pending: rdarts select" and the command that makes it
 *   <run>/configs/<name>.json  each member's configuration, as its `rdarts search --config` reads it
 *   <run>/logs/<name>.log      each member's output, attempt by attempt
 *   <run>/jobs.json            the pool's record of attempts and failures
 * Grid folders written before the pool (no configs/, logs/, jobs.json) are continued the same
 * way: the missing files are written, finished members are skipped, unfinished ones resumed.
 *
 * `planGrid` is pure; a member is finished when its result.json exists (skipped), unfinished
 * when only its config.json exists (resumed from its newest checkpoint), pending otherwise
 * (started); `collectGrid` reads the folders back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { RunDir, readJsonLines } from './run-dir.js';
import { ConfigError, CheckpointError, RdartsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';
import { readEnv } from '../util/env.js';
import { readCpuLimits, threadCount } from '../util/cpus.js';
import { VERSION } from '../version.js';
import { genotypeFromJSON } from '../nas/genotype-json.js';
import { formatGenotypeRepr } from '../nas/repr.js';
import { validateConfig, type SearchConfig } from '../search/config.js';
import type { SearchEvent } from '../search/trainer.js';
import { RUN_FILES, resultSchema } from './run-format.js';
import { isGridMethod, planGrid, type GridMember, type GridMethod, type GridPlan } from './grid-plan.js';
import { withRunLock } from './lock.js';
import { DEFAULT_RESOURCES, searchWork, type Job } from './study/graph.js';
import { logPath, runJobsLocal, writeJobConfigs, type StudyEvent } from './study/local.js';
import { readState } from './study/state.js';

export { GRID_METHODS, isGridMethod, memberName, planGrid, type GridMember, type GridMethod, type GridPlan } from './grid-plan.js';

/** `selection` of grid.json / result.json until the pick is made (`selectCommand` makes it). */
export const GRID_SELECTION_PENDING = 'pending: rdarts select';

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
  /** worker processes running members side by side (default 1) */
  workers?: number;
  /** further attempts of a member whose process dies (default 2) */
  retries?: number;
  /** CPUs the workers share (default: RDARTS_THREADS, else the CPUs this process may use) */
  cores?: number;
  /** extra environment of the workers (tests) */
  env?: NodeJS.ProcessEnv;
  /** after the members, run the selection (`rdarts select`, gridSelectJob) in the same pool with these extra arguments ([] for none) */
  select?: string[];
}

/** A member's config file inside the grid folder. */
export function memberConfigPath(m: Pick<GridMember, 'name'>): string {
  return `configs/${m.name}.json`;
}

/**
 * The grid as the search jobs of a one-benchmark study: one `rdarts search` per member, started
 * with `--config <grid>/configs/<name>.json --out <grid>/runs/<name>` and continued with
 * `--resume <grid>/runs/<name>`. Paths are absolute: the workers run in the folder the grid was
 * started from, so relative paths in the configuration (dataDir, spaceFile, s5Truth) mean what
 * they meant to the grid, and any member can be run or resumed by hand with the command in its log.
 */
export function gridJobs(plan: GridPlan): Job[] {
  return plan.members.map((m): Job => {
    const c = m.config;
    const configPath = memberConfigPath(m);
    return {
      id: m.name,
      phase: 'search',
      dir: relative(plan.root, m.dir),
      benchmark: `${c.spaceFile ? 'custom' : c.space}-${c.dataset}`,
      space: c.spaceFile ? 'custom' : c.space,
      dataset: c.dataset,
      method: plan.method,
      searchMethod: plan.method,
      seed: c.seed,
      grid: { parameter: m.parameter, value: m.value },
      deps: [],
      configFile: { path: configPath, content: c as unknown as Record<string, unknown> },
      argv: ['search', '--config', join(plan.root, configPath), '--out', m.dir],
      resumeArgv: ['search', '--resume', m.dir],
      resources: DEFAULT_RESOURCES,
      work: { items: [searchWork(c)] },
    };
  });
}

/** An unfinished member folder must hold this member's run (not another value's or method's). */
function checkMemberFolder(m: GridMember): void {
  if (memberStatus(m) !== 'unfinished') return;
  const saved = new RunDir(m.dir).readConfig<Record<string, unknown>>();
  if (saved[m.parameter] !== m.value || saved.method !== 'darts') {
    throw new ConfigError(`${m.dir} holds a run with ${m.parameter} ${String(saved[m.parameter])}, method ${String(saved.method)}, not this grid member (${m.parameter} ${m.value})`, 'move the folder away or use another --out');
  }
}

const SAFE_ARG = /^[A-Za-z0-9_\/.:=@%+,-]+$/;
const shellArg = (a: string): string => (SAFE_ARG.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/**
 * The `rdarts select` command that makes the grid's pick (docs/evaluation.md#selection): every
 * member's cell trained briefly from scratch on a train/validation split, the lowest validation
 * error wins and is trained with the full protocol (paper-spec §7.3). The data are the grid's;
 * the training protocol is select's own (short preset 100 epochs, paper preset 600; add
 * `--short-epochs`, `--epochs`, `--config` to change it). Output beside the grid: `<grid>-select`.
 */
export function gridSelectCommand(plan: GridPlan): string {
  return ['rdarts', ...gridSelectArgs(plan)].map(shellArg).join(' ');
}

/** The selection folder of a grid: `<grid>-select`, beside it. */
export function gridSelectDir(plan: Pick<GridPlan, 'root'>): string {
  return `${plan.root}-select`;
}

/** The arguments of `rdarts` in gridSelectCommand. */
export function gridSelectArgs(plan: GridPlan): string[] {
  const c = plan.members[0]?.config;
  const args = ['select', plan.root, '--out', gridSelectDir(plan)];
  if (c) {
    args.push('--dataset', c.dataset);
    if (c.dataDir) args.push('--data-dir', resolve(c.dataDir));
    if (c.subset) args.push('--subset', String(c.subset));
    if (c.device !== 'cpu') args.push('--device', c.device);
  }
  return args;
}

/** The selection as a job of the grid's pool: after every member, `rdarts select` with `extra` arguments (it continues itself when run again). */
export function gridSelectJob(plan: GridPlan, extra: string[] = []): Job {
  const c = plan.members[0]!.config;
  return {
    id: 'select',
    phase: 'select',
    dir: relative(plan.root, gridSelectDir(plan)),
    benchmark: `${c.spaceFile ? 'custom' : c.space}-${c.dataset}`,
    space: c.spaceFile ? 'custom' : c.space,
    dataset: c.dataset,
    method: plan.method,
    searchMethod: plan.method,
    seed: null,
    grid: null,
    deps: plan.members.map((m) => m.name),
    configFile: null,
    argv: [...gridSelectArgs(plan), ...extra, '--quiet'],
    resumeArgv: null,
    resources: DEFAULT_RESOURCES,
    work: { items: [] },
  };
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
  /** the `rdarts select` command that picks among the members */
  selectCommand: string;
  /** the pick, once the selection folder (`<grid>-select`) holds its result */
  selected: { name: string; testError: number; dir: string } | null;
}

/** Read the members back and write grid.json (and result.json once every member has finished). */
export function collectGrid(plan: GridPlan): GridResult {
  const members = plan.members.map((m) => summarizeMember(plan.root, m));
  const complete = members.every((m) => m.status === 'finished');
  const parameter = plan.members[0]?.parameter ?? 'weightDecay';
  const selectCommand = gridSelectCommand(plan);
  const sel = readJson(join(gridSelectDir(plan), RUN_FILES.result));
  const selected = sel && typeof sel.selected === 'string' && typeof sel.selectedTestError === 'number' ? { name: sel.selected, testError: sel.selectedTestError, dir: gridSelectDir(plan) } : null;
  const selection = selected ? `selected ${selected.name}` : GRID_SELECTION_PENDING;
  const grid = {
    method: plan.method,
    parameter,
    values: plan.members.map((m) => m.value),
    complete,
    selection,
    selectCommand,
    selected,
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
          selection,
          selected,
          selectionNote: 'R-DARTS picks one candidate by a short training from scratch and validation (paper-spec §7.3): run selectCommand',
          selectCommand,
          candidates: members.map((m) => ({ name: m.name, [parameter]: m.value, dir: m.dir, genotype: m.genotype, repr: m.repr, finalValidAcc: m.finalValidAcc, eigenvalue: m.eigenvalue, discretization: m.discretization })),
        },
        null,
        2,
      ) + '\n',
    );
  }
  return { method: plan.method, root: plan.root, members, complete, selection, selectCommand, selected };
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
 * Run a grid: its members as search jobs on the local worker pool (`o.workers` side by side,
 * default 1). Calling it again on the same folder with the same configuration continues:
 * finished members are skipped, unfinished ones resumed, a member another process still writes
 * (a worker of a killed grid) waited for. A different configuration in an existing grid folder
 * is refused. A member that fails on every attempt does not stop the others; the grid then
 * ends with an error naming it and its log.
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
  plan.members.forEach(checkMemberFolder);
  const jobs = gridJobs(plan);
  if (o.select) jobs.push(gridSelectJob(plan, o.select));
  writeJobConfigs(plan.root, jobs);
  const byId = new Map(plan.members.map((m) => [m.name, m]));
  const label = (id: string): string => {
    const m = byId.get(id);
    return m ? `grid ${plan.method}: ${m.name} (${m.parameter} ${m.value})` : `grid ${plan.method}: ${id} (rdarts select, ${gridSelectDir(plan)})`;
  };
  const log = (id: string): string => relative(plan.root, logPath(plan.root, jobs.find((j) => j.id === id)!));
  const note = (message: string): void => o.onEvent?.({ type: 'note', message });
  const onStudyEvent = (e: StudyEvent): void => {
    switch (e.type) {
      case 'skipped':
        return note(`${label(e.job)} — finished, skipped`);
      case 'start':
        return note(`${label(e.job)} — ${e.resume ? 'resuming' : 'starting'}${e.attempt > 1 ? ` (attempt ${e.attempt})` : ''}; its output: ${log(e.job)}`);
      case 'finished':
        return note(`${label(e.job)} — finished`);
      case 'retry':
        return note(`${label(e.job)} — ${e.exit}; trying again`);
      case 'failed':
        return note(`${label(e.job)} — FAILED (${e.exit}); its output: ${log(e.job)}`);
      case 'waiting':
        return note(`${label(e.job)} — another process writes it; waiting for it`);
      case 'blocked':
        return note(`${label(e.job)} — not run: ${e.by} failed`);
    }
  };
  const cores = o.cores ?? threadCount(readEnv(), readCpuLimits());
  const r = await runJobsLocal(plan.root, jobs, {
    workers: o.workers ?? 1,
    cores,
    cwd: process.cwd(),
    onEvent: onStudyEvent,
    ...(o.retries !== undefined ? { retries: o.retries } : {}),
    ...(o.env ? { env: o.env } : {}),
  }, () => collectGrid(plan));
  const result = collectGrid(plan);
  if (r.failed.length) {
    const st = readState(plan.root);
    const which = r.failed.map((id) => `${id} (${st.jobs[id]?.attempts ?? '?'} attempts, ${st.jobs[id]?.exit ?? 'no exit'}; log ${log(id)})`);
    const first = st.jobs[r.failed[0]!];
    // the last attempt's output
    const lines = (first?.logTail ?? '').split('\n');
    let start = -1;
    lines.forEach((l, i) => /^== attempt \d+ \d{4}-/.test(l) && (start = i));
    const tail = lines.slice(start + 1).filter((l) => !l.startsWith('== attempt')).slice(-6).join('\n');
    throw new GridMemberError(`grid ${plan.method}: ${r.failed.length} of ${jobs.length} members failed: ${which.join('; ')}; the end of ${log(r.failed[0]!)}:\n${tail}`, `fix the cause and continue the grid with \`rdarts search --resume ${out}\` (finished members are kept)`, /^exit code (\d+)$/.exec(first?.exit ?? '')?.[1]);
  }
  return result;
}

/** Members of a grid failed on every attempt; the exit code is the first one's (3 for missing data, …), else 1. */
export class GridMemberError extends RdartsError {
  override readonly exitCode: number;
  constructor(message: string, hint: string, memberExitCode: string | undefined) {
    super(message, hint);
    const code = Number(memberExitCode);
    this.exitCode = Number.isInteger(code) && code > 0 ? code : 1;
  }
}

/** Continue the grid in `dir` with the configuration it was started with. */
export async function resumeGrid(dir: string, o: GridRunOptions = {}): Promise<GridResult> {
  const root = new RunDir(dir);
  const { library: _l, ...rest } = root.readConfig<Record<string, unknown>>();
  const cfg = validateConfig(rest, join(root.path, RUN_FILES.config));
  return runGrid(cfg, dir, o);
}
