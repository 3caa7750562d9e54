/**
 * How many CPUs this process may run on, and whether the machine is already busy with other
 * rdarts runs. The computations are pure functions of the raw inputs (affinity mask size,
 * cgroup files' text, environment, /proc command lines, load average), so tests feed them fake
 * inputs; the small readers at the bottom gather those inputs on Linux and return "unknown"
 * elsewhere. See docs/threads.md.
 */
import { availableParallelism, cpus as machineCpus, loadavg } from 'node:os';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { readEnv, type Env } from './env.js';

/** What limits the CPUs of this process; undefined = no such limit (or unknown). */
export interface CpuLimits {
  /** CPUs in the affinity mask (sched_getaffinity: `taskset`, cpusets, Slurm's task binding). */
  affinity: number;
  /** cgroup CPU bandwidth quota in CPUs (quota / period, rounded up). */
  cgroupQuota?: number | undefined;
  /** SLURM_CPUS_PER_TASK inside a Slurm job. */
  slurmCpusPerTask?: number | undefined;
}

/** cgroup v2 `cpu.max` ("<quota> <period>" or "max <period>") → CPUs, rounded up, at least 1; undefined for no limit. */
export function parseCpuMax(text: string): number | undefined {
  const [quota, period] = text.trim().split(/\s+/);
  if (quota === undefined || quota === 'max') return undefined;
  return quotaCpus(Number(quota), Number(period ?? 100000));
}

/** cgroup v1 `cpu.cfs_quota_us` / `cpu.cfs_period_us` → CPUs; quota −1 = no limit. */
export function parseCfsQuota(quotaText: string, periodText: string): number | undefined {
  return quotaCpus(Number(quotaText.trim()), Number(periodText.trim()));
}

function quotaCpus(quota: number, period: number): number | undefined {
  if (!Number.isFinite(quota) || !Number.isFinite(period) || quota <= 0 || period <= 0) return undefined;
  return Math.max(1, Math.ceil(quota / period));
}

/** The CPUs this process may run on: the smallest of the limits that apply, at least 1. */
export function cpuBudget(l: CpuLimits): number {
  let n = Math.max(1, Math.floor(l.affinity));
  if (l.cgroupQuota !== undefined) n = Math.min(n, l.cgroupQuota);
  if (l.slurmCpusPerTask !== undefined) n = Math.min(n, l.slurmCpusPerTask);
  return Math.max(1, n);
}

/** libtorch's intra-op thread count: RDARTS_THREADS if set, else the CPU budget. */
export function threadCount(env: Pick<Env, 'threads'>, l: CpuLimits): number {
  return env.threads ?? cpuBudget(l);
}

/** Threads for each of `workers` runs sharing `cpus` CPUs (what a local pool of runs should give each). */
export function threadsPerWorker(cpus: number, workers: number): number {
  return Math.max(1, Math.floor(cpus / Math.max(1, workers)));
}

/** The cgroup v2 path of a process from its /proc/<pid>/cgroup text (the "0::<path>" line). */
export function cgroupV2Path(procCgroup: string): string | undefined {
  const line = procCgroup.split('\n').find((l) => l.startsWith('0::'));
  return line ? line.slice(3).trim() || '/' : undefined;
}

/** The v1 path of the `cpu` controller ("N:cpu,cpuacct:<path>") from /proc/<pid>/cgroup text. */
export function cgroupV1CpuPath(procCgroup: string): string | undefined {
  for (const l of procCgroup.split('\n')) {
    const [, controllers, path] = l.split(':');
    if (controllers && path !== undefined && controllers.split(',').includes('cpu')) return path.trim() || '/';
  }
  return undefined;
}

/** Commands that run a search or a training (those are the runs that compete for CPUs). */
const RUN_COMMANDS = new Set(['search', 'demo', 'train']);

/** /proc/<pid>/cmdline bytes → argv. */
export function parseCmdline(raw: string): string[] {
  return raw.split('\0').filter((a, i, all) => a !== '' || i < all.length - 1);
}

/** Is this argv an rdarts run (`node …/cli/main.js search …` or `rdarts train …`)? */
export function isRdartsRun(argv: readonly string[]): boolean {
  const i = argv.findIndex((a) => /(^|\/)cli\/main\.js$/.test(a) || /(^|\/)rdarts$/.test(a));
  if (i < 0) return false;
  const command = argv.slice(i + 1).find((a) => !a.startsWith('-'));
  return command !== undefined && RUN_COMMANDS.has(command);
}

export interface MachineLoad {
  /** other rdarts runs on this machine */
  otherRuns: number;
  /** 1-minute load average */
  load1: number;
  /** online CPUs of the machine (what the load average is measured against) */
  machineCpus: number;
  /** CPUs this process may use */
  cpus: number;
  /** intra-op threads this run will use */
  threads: number;
}

/** The note a run prints when it starts on a busy machine with more threads than its share; undefined otherwise. */
export function busyNote(m: MachineLoad): string | undefined {
  const loaded = m.load1 >= m.machineCpus;
  if (m.otherRuns === 0 && !loaded) return undefined;
  const what =
    m.otherRuns > 0
      ? `${m.otherRuns} other rdarts run${m.otherRuns === 1 ? ' is' : 's are'} already running on this machine`
      : `this machine is already busy (1-minute load ${m.load1.toFixed(1)} on ${m.machineCpus} CPUs)`;
  // other rdarts runs: an equal share each; other load that already fills the machine: half
  const share = threadsPerWorker(m.cpus, m.otherRuns > 0 ? m.otherRuns + 1 : 2);
  if (m.threads <= share) return undefined; // this run already keeps to its share (e.g. RDARTS_THREADS=1)
  return (
    `note: ${what}; this run uses ${m.threads} thread${m.threads === 1 ? '' : 's'} on ${m.cpus} CPU${m.cpus === 1 ? '' : 's'}, ` +
    `and runs that together want more threads than there are CPUs slow each other down far more than they gain\n` +
    `help: give each run its share, e.g. RDARTS_THREADS=${share}` +
    (m.otherRuns > 0 ? ` for ${m.otherRuns + 1} runs at once` : '') +
    `, or let \`rdarts study run --workers n\` run them (it gives each worker its share; RDARTS_BUSY_WARNING=0 silences this note)\n`
  );
}

export interface ThreadShareOptions {
  /** CPUs this process may use */
  cpus: number;
  /** intra-op threads when the machine is not shared with other rdarts runs */
  threads: number;
  /** RDARTS_THREADS was given: the count is the user's and never changes */
  fixed: boolean;
  /** other rdarts runs on this machine now */
  countOthers: () => number;
  /** apply a thread count (at::set_num_threads) */
  setThreads: (n: number) => void;
  /** milliseconds clock (tests pass a fake one) */
  now?: () => number;
  /** re-count other runs at most this often (ms; default 5000) */
  everyMs?: number;
}

/**
 * A run's intra-op threads follow its share of the CPUs while other rdarts runs share the machine
 * (docs/threads.md#sharing): with k other runs on n CPUs it uses ⌊n/(k+1)⌋ (at least 1, at most
 * its own count), and its own count again once they have ended. Runs that together want more
 * threads than there are CPUs make each op's thread team wait for descheduled members, which no
 * OpenMP waiting policy cures without slowing a lone run (measured there); a share each does.
 * `check()` is cheap to call often (it re-counts at most every `everyMs`).
 */
export class ThreadShare {
  current: number;
  private last = -Infinity;

  constructor(private readonly o: ThreadShareOptions) {
    this.current = o.threads;
  }

  /** Re-count other runs when due (or now, if `force`); returns a note when the thread count changed. */
  check(force = false): string | undefined {
    if (this.o.fixed) return undefined;
    const t = (this.o.now ?? Date.now)();
    if (!force && t - this.last < (this.o.everyMs ?? 5000)) return undefined;
    this.last = t;
    const others = this.o.countOthers();
    const want = others > 0 ? Math.min(this.o.threads, threadsPerWorker(this.o.cpus, others + 1)) : this.o.threads;
    if (want === this.current) return undefined;
    this.current = want;
    this.o.setThreads(want);
    const th = (n: number): string => `${n} thread${n === 1 ? '' : 's'}`;
    return others > 0
      ? `${others} other rdarts run${others === 1 ? ' is' : 's are'} on this machine: this run now uses ${th(want)} (its share of ${this.o.cpus} CPUs) until ${others === 1 ? 'it ends' : 'they end'}; RDARTS_THREADS=n fixes the count (docs/threads.md#sharing)`
      : `no other rdarts run on this machine any more: back to ${th(want)}`;
  }
}

// ---- readers (Linux; elsewhere they report no limit / no other runs) ----

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}

/** The cgroup CPU quota of this process, the tightest along its cgroup path (v2, else v1), in CPUs. */
export function readCgroupQuota(root = '/sys/fs/cgroup', self = readText('/proc/self/cgroup') ?? ''): number | undefined {
  let best: number | undefined;
  const take = (n: number | undefined): void => {
    if (n !== undefined && (best === undefined || n < best)) best = n;
  };
  const v2 = cgroupV2Path(self);
  if (v2 !== undefined && existsSync(join(root, 'cgroup.controllers'))) {
    // the limit of any ancestor applies too; in a container the namespace root is the container's cgroup
    const parts = v2.split('/').filter(Boolean);
    for (let k = parts.length; k >= 0; k--) {
      const t = readText(join(root, ...parts.slice(0, k), 'cpu.max'));
      if (t !== undefined) take(parseCpuMax(t));
    }
    return best;
  }
  const v1 = cgroupV1CpuPath(self);
  for (const dir of [join(root, 'cpu'), join(root, 'cpu,cpuacct')]) {
    for (const sub of v1 && v1 !== '/' ? [v1, '/'] : ['/']) {
      const q = readText(join(dir, sub, 'cpu.cfs_quota_us'));
      const p = readText(join(dir, sub, 'cpu.cfs_period_us'));
      if (q !== undefined && p !== undefined) take(parseCfsQuota(q, p));
    }
  }
  return best;
}

/** The limits of this process: affinity (os.availableParallelism uses sched_getaffinity), cgroup quota, Slurm. */
export function readCpuLimits(env: Env = readEnv()): CpuLimits {
  return { affinity: availableParallelism(), cgroupQuota: readCgroupQuota(), slurmCpusPerTask: env.slurmCpusPerTask };
}

/** A kernel CPU list ("0-3,8,10-11", as /proc/<pid>/status Cpus_allowed_list) → CPU numbers; undefined if malformed. */
export function parseCpuList(text: string): Set<number> | undefined {
  const out = new Set<number>();
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    for (let c = a; c <= b; c++) out.add(c);
  }
  return out;
}

/** The Cpus_allowed_list of a /proc/<pid>/status text. */
export function allowedCpus(statusText: string | undefined): Set<number> | undefined {
  const m = statusText ? /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(statusText) : null;
  return m ? parseCpuList(m[1]!) : undefined;
}

/** Is the process of this /proc/<pid>/status text running or waiting to run (not stopped, traced or a zombie)? Unknown: yes. */
export function runsNow(statusText: string | undefined): boolean {
  const m = statusText ? /^State:\s*(\S)/m.exec(statusText) : null;
  return !m || !['T', 't', 'Z', 'X'].includes(m[1]!);
}

/** Do two CPU sets share a CPU? (unknown sets are taken to overlap) */
export function cpusOverlap(a: Set<number> | undefined, b: Set<number> | undefined): boolean {
  if (!a || !b) return true;
  for (const c of a) if (b.has(c)) return true;
  return false;
}

/**
 * How many other rdarts runs are on this machine (their /proc/<pid>/cmdline; 0 where /proc is
 * missing). With `sameCpus`, only those allowed on a CPU this process may use too: Slurm jobs on
 * one node with cpusets of their own do not compete.
 */
export function countOtherRuns(self: readonly number[] = [process.pid, process.ppid], sameCpus = false): number {
  const mine = sameCpus ? allowedCpus(readText('/proc/self/status')) : undefined;
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return 0;
  }
  let n = 0;
  for (const d of pids) {
    if (self.includes(Number(d))) continue;
    const raw = readText(`/proc/${d}/cmdline`);
    if (!raw || !isRdartsRun(parseCmdline(raw))) continue;
    const status = readText(`/proc/${d}/status`);
    if (!runsNow(status)) continue; // stopped (Ctrl-Z, SIGSTOP) or exiting: it uses no CPU
    if (!sameCpus || cpusOverlap(mine, allowedCpus(status))) n++;
  }
  return n;
}

let noted = false;

/**
 * Print the busy-machine note on stderr once per process when a run starts on a machine already
 * busy with other rdarts runs or other load. Returns the note (or undefined).
 */
export function noteIfBusy(write: (s: string) => void = (s) => void process.stderr.write(s), threadsNow?: number): string | undefined {
  const env = readEnv();
  if (noted || !env.busyWarning) return undefined;
  noted = true;
  const limits = readCpuLimits(env);
  const note = busyNote({
    otherRuns: countOtherRuns(),
    load1: loadavg()[0] ?? 0,
    machineCpus: machineCpus().length || limits.affinity,
    cpus: cpuBudget(limits),
    threads: threadsNow ?? threadCount(env, limits),
  });
  if (note) write(note);
  return note;
}
