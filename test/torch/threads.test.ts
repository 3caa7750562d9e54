import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { makeTempDir, removeDir } from '../helpers/tmp.js';
import { spawnSync } from 'node:child_process';
import {
  busyNote,
  cgroupV1CpuPath,
  cgroupV2Path,
  cpuBudget,
  isRdartsRun,
  parseCfsQuota,
  parseCmdline,
  parseCpuMax,
  readCgroupQuota,
  threadCount,
  threadsPerWorker,
  ThreadShare,
  allowedCpus,
  cpusOverlap,
  parseCpuList,
  runsNow,
} from '../../src/util/cpus.js';
import { readEnv, setEnvDefault } from '../../src/util/env.js';
import { applyOpenMpDefaults, OPENMP_DEFAULTS } from '../../src/torch/openmp.js';

test('cgroup v2 cpu.max: quota/period rounded up, at least 1; "max" is no limit', () => {
  assert.equal(parseCpuMax('max 100000\n'), undefined);
  assert.equal(parseCpuMax('200000 100000\n'), 2);
  assert.equal(parseCpuMax('150000 100000'), 2);
  assert.equal(parseCpuMax('50000 100000'), 1);
  assert.equal(parseCpuMax('1000 100000'), 1);
  assert.equal(parseCpuMax('400000'), 4); // period defaults to 100000
  assert.equal(parseCpuMax(''), undefined);
  assert.equal(parseCpuMax('garbage here'), undefined);
});

test('cgroup v1 cfs quota: -1 is no limit', () => {
  assert.equal(parseCfsQuota('-1\n', '100000\n'), undefined);
  assert.equal(parseCfsQuota('300000\n', '100000\n'), 3);
  assert.equal(parseCfsQuota('25000', '100000'), 1);
});

test('cgroup paths from /proc/self/cgroup', () => {
  assert.equal(cgroupV2Path('0::/user.slice/user-1000.slice/session-3.scope\n'), '/user.slice/user-1000.slice/session-3.scope');
  assert.equal(cgroupV2Path('0::/\n'), '/');
  assert.equal(cgroupV2Path('4:memory:/x\n1:cpu:/\n'), undefined);
  assert.equal(cgroupV1CpuPath('4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n'), '/docker/abc');
  assert.equal(cgroupV1CpuPath('1:cpu:/\n'), '/');
  assert.equal(cgroupV1CpuPath('0::/a\n'), undefined);
});

test('the CPU budget is the tightest of affinity, cgroup quota and Slurm', () => {
  assert.equal(cpuBudget({ affinity: 16 }), 16);
  assert.equal(cpuBudget({ affinity: 16, cgroupQuota: 4 }), 4);
  assert.equal(cpuBudget({ affinity: 2, cgroupQuota: 4 }), 2);
  assert.equal(cpuBudget({ affinity: 64, cgroupQuota: undefined, slurmCpusPerTask: 8 }), 8);
  assert.equal(cpuBudget({ affinity: 64, cgroupQuota: 6, slurmCpusPerTask: 8 }), 6);
  assert.equal(cpuBudget({ affinity: 0 }), 1);
});

test('RDARTS_THREADS overrides the budget; SLURM_CPUS_PER_TASK counts only inside a job', () => {
  const limits = { affinity: 8, cgroupQuota: 4 };
  assert.equal(threadCount(readEnv({}), limits), 4);
  assert.equal(threadCount(readEnv({ RDARTS_THREADS: '3' }), limits), 3);
  assert.equal(threadCount(readEnv({ RDARTS_THREADS: '12' }), limits), 12);
  assert.equal(threadCount(readEnv({ RDARTS_THREADS: '0' }), limits), 4);
  assert.equal(threadCount(readEnv({ RDARTS_THREADS: 'lots' }), limits), 4);
  assert.equal(readEnv({ SLURM_CPUS_PER_TASK: '2' }).slurmCpusPerTask, undefined);
  const slurm = readEnv({ SLURM_JOB_ID: '77', SLURM_CPUS_PER_TASK: '2' });
  assert.equal(slurm.slurmCpusPerTask, 2);
  assert.equal(threadCount(slurm, { affinity: 8, slurmCpusPerTask: slurm.slurmCpusPerTask }), 2);
});

test('threads per worker of a local pool', () => {
  assert.equal(threadsPerWorker(16, 4), 4);
  assert.equal(threadsPerWorker(2, 4), 1);
  assert.equal(threadsPerWorker(6, 4), 1);
  assert.equal(threadsPerWorker(8, 0), 8);
});

test('OpenMP defaults: set only what the user has not set', () => {
  const env: NodeJS.ProcessEnv = { OMP_WAIT_POLICY: 'ACTIVE' };
  setEnvDefault('GOMP_SPINCOUNT', '10000', env);
  setEnvDefault('OMP_WAIT_POLICY', 'PASSIVE', env);
  assert.deepEqual(env, { OMP_WAIT_POLICY: 'ACTIVE', GOMP_SPINCOUNT: '10000' });
  assert.equal(readEnv(env).ompWaitPolicy, 'ACTIVE');
  assert.equal(readEnv({}).gompSpincount, undefined);
  const fresh: NodeJS.ProcessEnv = { PATH: '/bin' };
  applyOpenMpDefaults(fresh);
  assert.deepEqual(fresh, { PATH: '/bin', ...OPENMP_DEFAULTS });
  for (const mine of [{ OMP_WAIT_POLICY: 'PASSIVE' }, { GOMP_SPINCOUNT: '0' }]) {
    const env2: NodeJS.ProcessEnv = { ...mine };
    applyOpenMpDefaults(env2);
    assert.deepEqual(env2, mine, 'a user setting of either variable leaves both alone');
  }
});

test('rdarts runs are recognised from /proc/<pid>/cmdline', () => {
  assert.deepEqual(parseCmdline('node\0dist/src/cli/main.js\0search\0--quiet\0'), ['node', 'dist/src/cli/main.js', 'search', '--quiet']);
  assert.equal(isRdartsRun(parseCmdline('node\0dist/src/cli/main.js\0search\0--quiet\0')), true);
  assert.equal(isRdartsRun(['/usr/bin/node', '/home/u/robust-darts/dist/src/cli/main.js', '--quiet', 'demo']), true);
  assert.equal(isRdartsRun(['node', '/usr/local/bin/rdarts', 'train', '--genotype', 'g.json']), true);
  assert.equal(isRdartsRun(['node', 'dist/src/cli/main.js', 'info', '--space', 's4']), false);
  assert.equal(isRdartsRun(['node', 'dist/src/cli/main.js']), false);
  assert.equal(isRdartsRun(['node', '--test', 'dist/test/search/resume-cli.test.js']), false);
  assert.equal(isRdartsRun(['vim', 'src/cli/main.ts', 'search']), false);
});

test('the busy note: silent on a quiet machine, once with the fix when others run or the load fills the CPUs', () => {
  const quiet = { otherRuns: 0, load1: 0.4, machineCpus: 2, cpus: 2, threads: 2 };
  assert.equal(busyNote(quiet), undefined);
  const others = busyNote({ ...quiet, otherRuns: 1 });
  assert.ok(others);
  assert.match(others, /^note: 1 other rdarts run is already running on this machine; this run uses 2 threads on 2 CPUs/);
  assert.match(others, /\nhelp: .*RDARTS_THREADS=1 for 2 runs at once, or let `rdarts study run --workers n` run them/);
  assert.match(busyNote({ ...quiet, otherRuns: 3, machineCpus: 16, cpus: 16, threads: 16 })!, /3 other rdarts runs are.*RDARTS_THREADS=4 for 4 runs/s);
  const loaded = busyNote({ ...quiet, load1: 2.3 });
  assert.ok(loaded);
  assert.match(loaded, /^note: this machine is already busy \(1-minute load 2\.3 on 2 CPUs\)/);
  assert.match(loaded, /help: give each run its share, e\.g\. RDARTS_THREADS=1, or let/);
  assert.match(busyNote({ otherRuns: 0, load1: 17.5, machineCpus: 16, cpus: 16, threads: 16 })!, /RDARTS_THREADS=8,/);
  assert.ok(loaded.endsWith('\n'));
  // a run that already keeps to its share is not told to
  assert.equal(busyNote({ ...quiet, otherRuns: 1, threads: 1 }), undefined);
  assert.equal(busyNote({ ...quiet, load1: 5, threads: 1 }), undefined);
  // a Slurm job with 4 of 64 CPUs: other jobs' load on the node is not ours to worry about
  assert.equal(busyNote({ otherRuns: 0, load1: 30, machineCpus: 64, cpus: 4, threads: 4 }), undefined);
});

test('a process pinned to one CPU runs one intra-op thread; the OpenMP default is in its environment when libtorch loads', (t) => {
  if (!existsSync('/usr/bin/taskset')) return t.skip('no taskset');
  const probe = `import('${new URL('../../src/torch/runtime.js', import.meta.url).href}').then((m) => console.log(JSON.stringify([m.getNumThreads(), process.env.GOMP_SPINCOUNT ?? null, process.env.OMP_WAIT_POLICY ?? null])))`;
  const { RDARTS_THREADS: _t, GOMP_SPINCOUNT: _g, OMP_WAIT_POLICY: _o, ...rest } = process.env;
  const run = (env: NodeJS.ProcessEnv): unknown => {
    const r = spawnSync('/usr/bin/taskset', ['-c', '0', process.execPath, '--input-type=module', '-e', probe], { encoding: 'utf8', env });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout.trim());
  };
  assert.deepEqual(run(rest), [1, OPENMP_DEFAULTS.GOMP_SPINCOUNT ?? null, null]);
  assert.deepEqual(run({ ...rest, RDARTS_THREADS: '3', OMP_WAIT_POLICY: 'PASSIVE' }), [3, null, 'PASSIVE']);
});

test('the cgroup quota reader: the tightest cpu.max along the v2 path, or the v1 cfs files', () => {
  const root = makeTempDir('cgroup');
  try {
    const put = (rel: string, text: string): void => {
      mkdirSync(join(root, rel, '..'), { recursive: true });
      writeFileSync(join(root, rel), text);
    };
    put('v2/cgroup.controllers', 'cpu memory\n');
    put('v2/job/cpu.max', '300000 100000\n');
    put('v2/job/step/cpu.max', 'max 100000\n');
    assert.equal(readCgroupQuota(join(root, 'v2'), '0::/job/step\n'), 3);
    put('v2/job/step/task/cpu.max', '150000 100000\n');
    assert.equal(readCgroupQuota(join(root, 'v2'), '0::/job/step/task\n'), 2);
    assert.equal(readCgroupQuota(join(root, 'v2'), '0::/elsewhere\n'), undefined);
    put('v1/cpu/cpu.cfs_quota_us', '-1\n');
    put('v1/cpu/cpu.cfs_period_us', '100000\n');
    assert.equal(readCgroupQuota(join(root, 'v1'), '2:cpu,cpuacct:/\n0::/\n'), undefined);
    put('v1/cpu/docker/abc/cpu.cfs_quota_us', '50000\n');
    put('v1/cpu/docker/abc/cpu.cfs_period_us', '100000\n');
    assert.equal(readCgroupQuota(join(root, 'v1'), '2:cpu,cpuacct:/docker/abc\n0::/\n'), 1);
  } finally {
    removeDir(root);
  }
});

test('the Slurm task name that scontrol requeue takes', () => {
  assert.equal(readEnv({}).slurmTask, undefined);
  assert.equal(readEnv({ SLURM_JOB_ID: '123' }).slurmTask, '123');
  assert.equal(readEnv({ SLURM_JOB_ID: '130', SLURM_ARRAY_JOB_ID: '123', SLURM_ARRAY_TASK_ID: '7' }).slurmTask, '123_7');
});

test('thread sharing: a run takes ⌊n/(k+1)⌋ threads while k other rdarts runs share the machine, and its own count again after', () => {
  let others = 0;
  let clock = 0;
  const applied: number[] = [];
  const s = new ThreadShare({ cpus: 4, threads: 4, fixed: false, countOthers: () => others, setThreads: (n) => applied.push(n), now: () => clock, everyMs: 5000 });
  assert.equal(s.check(true), undefined, 'alone: nothing changes');
  assert.deepEqual(applied, []);
  others = 1;
  clock = 1000;
  assert.equal(s.check(), undefined, 'not re-counted before everyMs');
  clock = 5000;
  const note = s.check();
  assert.match(note ?? '', /1 other rdarts run is on this machine: this run now uses 2 threads \(its share of 4 CPUs\)/);
  assert.equal(s.current, 2);
  others = 3;
  clock = 10000;
  s.check();
  assert.equal(s.current, 1, '4 runs on 4 CPUs: one thread each');
  others = 7;
  clock = 15000;
  assert.equal(s.check(), undefined, 'never below one thread, and no note when nothing changes');
  assert.equal(s.current, 1);
  others = 0;
  clock = 20000;
  assert.match(s.check() ?? '', /back to 4 threads/);
  assert.deepEqual(applied, [2, 1, 4]);
});

test('thread sharing: RDARTS_THREADS (fixed) is never changed, and a run already below its share keeps its count', () => {
  const applied: number[] = [];
  const fixed = new ThreadShare({ cpus: 2, threads: 2, fixed: true, countOthers: () => 3, setThreads: (n) => applied.push(n) });
  assert.equal(fixed.check(true), undefined);
  const small = new ThreadShare({ cpus: 8, threads: 1, fixed: false, countOthers: () => 1, setThreads: (n) => applied.push(n) });
  assert.equal(small.check(true), undefined);
  assert.deepEqual(applied, []);
});

test('CPU lists: parsed from /proc/<pid>/status; runs on disjoint cpusets (Slurm jobs of one node) do not share', () => {
  assert.deepEqual([...parseCpuList('0-3,8,10-11')!], [0, 1, 2, 3, 8, 10, 11]);
  assert.equal(parseCpuList('0-3,x'), undefined);
  const status = 'Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t4-7\nMems_allowed_list:\t0\n';
  assert.deepEqual([...allowedCpus(status)!], [4, 5, 6, 7]);
  assert.equal(allowedCpus('Name:\tnode\n'), undefined);
  assert.equal(cpusOverlap(parseCpuList('0-3'), parseCpuList('4-7')), false);
  assert.equal(cpusOverlap(parseCpuList('0-3'), parseCpuList('3-7')), true);
  assert.equal(cpusOverlap(undefined, parseCpuList('4-7')), true, 'unknown: assume they compete');
  assert.equal(runsNow('Name:\tnode\nState:\tR (running)\n'), true);
  assert.equal(runsNow('Name:\tnode\nState:\tS (sleeping)\n'), true, 'a sleeping run still competes when it wakes');
  assert.equal(runsNow('Name:\tnode\nState:\tT (stopped)\n'), false, 'a stopped run (Ctrl-Z) uses no CPU');
  assert.equal(runsNow('Name:\tnode\nState:\tZ (zombie)\n'), false);
  assert.equal(runsNow(undefined), true);
});
