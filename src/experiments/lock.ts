/**
 * One writer per run folder (issue 9). Every process that writes a run folder (a search, a
 * training, a selection, a study driver) holds its lock while it writes; a second writer is
 * refused with a `RunLockedError` naming the holder (host, PID, since when) and writes nothing.
 *
 * The lock is a `proper-lockfile` lock (an atomic `mkdir` of `<dir>/.rdarts.lock`, its mtime
 * refreshed every minute while the event loop runs) plus a holder record beside it
 * (`<dir>/.rdarts.lock.json`: host, PID, since, what). A lock is stale, and is taken over at
 * once, when
 *   - its holder ran on this host and that PID is gone (a SIGKILLed search, a crashed worker);
 *   - or its holder ran on another host and the lock was not refreshed for `staleMs`
 *     (default 30 min: a busy synchronous epoch does not refresh it, so this must be long).
 * A lock whose holder is alive on this host is never taken over, however old it is.
 * Releasing removes both files, so a finished run folder carries no lock, and a folder that was
 * created only to hold the lock (the writer failed before writing anything) is removed again.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, statSync, unlinkSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import lockfile from 'proper-lockfile';
import { RdartsError } from '../errors.js';
import { writeFileAtomic } from '../util/fs.js';

/**
 * proper-lockfile installs signal-exit handlers (SIGINT, SIGTERM, SIGHUP, …) when it loads, to
 * remove its locks on the way out. JavaScript signal handlers run only when the event loop is
 * free, and a training epoch is synchronous, so with them Ctrl-C or `kill` would wait for the
 * epoch's end. Give those signals their default action back: the process stops at once, and the
 * lock it leaves is taken over by the next writer (its PID is gone).
 */
const SIGNAL_EXIT_SIGNALS = ['SIGABRT', 'SIGALRM', 'SIGHUP', 'SIGINT', 'SIGTERM', 'SIGVTALRM', 'SIGXCPU', 'SIGXFSZ', 'SIGUSR2', 'SIGTRAP', 'SIGSYS', 'SIGQUIT', 'SIGIOT', 'SIGPROF', 'SIGIO', 'SIGPOLL', 'SIGPWR', 'SIGSTKFLT', 'SIGUNUSED'];
for (const sig of SIGNAL_EXIT_SIGNALS) {
  try {
    process.removeAllListeners(sig as NodeJS.Signals);
  } catch {
    // a signal this platform does not know
  }
}

export const LOCK_DIR = '.rdarts.lock';
export const LOCK_HOLDER = '.rdarts.lock.json';

/** Who holds a run folder's lock. */
export interface LockHolder {
  host: string;
  pid: number;
  /** ISO time the lock was taken */
  since: string;
  /** what the holder is doing: "search", "train", "select", "study driver", … */
  what: string;
}

/** A second writer on a locked run folder. */
export class RunLockedError extends RdartsError {
  override readonly exitCode = 9;
  readonly holder: LockHolder | null;
  readonly dir: string;
  constructor(dir: string, holder: LockHolder | null) {
    const who = holder ? `${holder.what} process ${holder.pid} on ${holder.host} since ${holder.since}` : 'another process (its holder record is missing or unreadable)';
    super(
      `${dir} is being written by ${who}`,
      holder
        ? `wait for it to finish, or stop it (kill ${holder.pid}${holder.host === hostname() ? '' : ` on ${holder.host}`}); a lock left by a killed process is taken over automatically`
        : `wait for the other writer to finish; if none is running, remove ${join(dir, LOCK_DIR)}`,
    );
    this.dir = dir;
    this.holder = holder;
  }
}

export interface LockOptions {
  /** what the holder does, recorded for the error message (default "writer") */
  what?: string;
  /** a lock from another host not refreshed for this long is stale (ms; default 30 min) */
  staleMs?: number;
  /** called when the lock was taken away from us while we held it (default: a process warning) */
  onCompromised?: (err: Error) => void;
}

/** A held lock; `release()` is idempotent. */
export interface RunLock {
  readonly dir: string;
  readonly holder: LockHolder;
  release(): void;
  [Symbol.dispose](): void;
}

const DEFAULT_STALE_MS = 30 * 60 * 1000;
// proper-lockfile's own mtime staleness is switched off (we decide staleness by holder);
// it still refreshes the mtime every minute, which the other-host rule reads
const PL_STALE = 2 ** 30;
const PL_UPDATE = 60 * 1000;

/** The holder record of `dir`'s lock, or null when there is none (or it is unreadable). */
export function readLockHolder(dir: string): LockHolder | null {
  const p = join(resolve(dir), LOCK_HOLDER);
  if (!existsSync(p)) return null;
  try {
    const h = JSON.parse(readFileSync(p, 'utf8')) as LockHolder;
    return typeof h.pid === 'number' && typeof h.host === 'string' ? h : null;
  } catch {
    return null;
  }
}

/** Is `dir` locked by a live writer right now (as a second writer would see it)? */
export function isLocked(dir: string, o: Pick<LockOptions, 'staleMs'> = {}): boolean {
  const d = resolve(dir);
  if (!existsSync(join(d, LOCK_DIR))) return false;
  return !isStale(d, readLockHolder(d), o.staleMs ?? DEFAULT_STALE_MS);
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function isStale(dir: string, holder: LockHolder | null, staleMs: number): boolean {
  if (holder && holder.host === hostname()) return !pidAlive(holder.pid);
  let mtime: number;
  try {
    mtime = statSync(join(dir, LOCK_DIR)).mtimeMs;
  } catch {
    return true;
  }
  return Date.now() - mtime > staleMs;
}

function tryLock(dir: string, onCompromised: (err: Error) => void): (() => void) | null {
  try {
    return lockfile.lockSync(dir, { lockfilePath: join(dir, LOCK_DIR), realpath: false, stale: PL_STALE, update: PL_UPDATE, onCompromised });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ELOCKED') return null;
    throw e;
  }
}

/**
 * Take the lock of run folder `dir` (created when missing), or throw `RunLockedError` naming
 * the live holder. A stale lock (see the header) is taken over.
 */
export function acquireRunLock(dir: string, o: LockOptions = {}): RunLock {
  const d = resolve(dir);
  const staleMs = o.staleMs ?? DEFAULT_STALE_MS;
  const created = !existsSync(d);
  const onCompromised = o.onCompromised ?? ((err: Error) => process.emitWarning(`the lock of ${d} was taken away: ${err.message}`, 'RunLockWarning'));
  mkdirSync(d, { recursive: true });
  let release = tryLock(d, onCompromised);
  if (!release) {
    const holder = readLockHolder(d);
    if (!isStale(d, holder, staleMs)) throw new RunLockedError(d, holder);
    rmSync(join(d, LOCK_DIR), { recursive: true, force: true });
    release = tryLock(d, onCompromised);
    if (!release) throw new RunLockedError(d, readLockHolder(d));
  }
  const holder: LockHolder = { host: hostname(), pid: process.pid, since: new Date().toISOString(), what: o.what ?? 'writer' };
  writeFileAtomic(join(d, LOCK_HOLDER), JSON.stringify(holder) + '\n');
  let held = true;
  const free = (): void => {
    if (!held) return;
    held = false;
    const mine = readLockHolder(d);
    if (mine && mine.pid === holder.pid && mine.host === holder.host && mine.since === holder.since) {
      try {
        unlinkSync(join(d, LOCK_HOLDER));
      } catch {
        /* already gone */
      }
    }
    try {
      release!();
    } catch {
      /* compromised or already released */
    }
    // a folder made only to hold the lock goes again (bad input leaves nothing behind)
    if (created) {
      try {
        if (readdirSync(d).length === 0) rmdirSync(d);
      } catch {
        /* not ours to remove any more */
      }
    }
  };
  return { dir: d, holder, release: free, [Symbol.dispose]: free };
}

/** Run `fn` holding `dir`'s lock; the lock is released however `fn` ends. */
export async function withRunLock<T>(dir: string, o: LockOptions, fn: () => Promise<T> | T): Promise<T> {
  const lock = acquireRunLock(dir, o);
  try {
    return await fn();
  } finally {
    lock.release();
  }
}
