/**
 * The CLI side of thread sharing (docs/threads.md#sharing): one ThreadShare per process, checked
 * when a run starts and on every progress event after (it re-counts other rdarts runs at most
 * every 5 s), its notes sent through the run's own event stream so the progress display prints
 * them in place.
 */
import { getNumThreads, setNumThreads } from '../torch/index.js';
import { ThreadShare, countOtherRuns, cpuBudget, noteIfBusy, readCpuLimits } from '../util/cpus.js';
import { readEnv } from '../util/env.js';

let share: ThreadShare | undefined;

function processShare(): ThreadShare {
  if (!share) {
    const env = readEnv();
    share = new ThreadShare({
      cpus: cpuBudget(readCpuLimits(env)),
      threads: getNumThreads(),
      fixed: env.threads !== undefined || !env.threadShare,
      countOthers: () => countOtherRuns(undefined, true),
      setThreads: setNumThreads,
    });
  }
  return share;
}

/**
 * Wrap a run's event handler: take this run's share now (and print the busy-machine note where
 * other load, not rdarts runs, fills the CPUs), then keep following the share on each event.
 */
export function sharingThreads<E extends { type: string }>(onEvent: (e: E) => void): (e: E) => void {
  const s = processShare();
  const note = (message: string | undefined): void => {
    if (message) onEvent({ type: 'note', message } as unknown as E);
  };
  note(s.check(true));
  noteIfBusy(undefined, s.current);
  return (e) => {
    note(s.check());
    onEvent(e);
  };
}
