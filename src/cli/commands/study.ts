/**
 * `rdarts study plan|run|status|table`: the paper's experiments as declarative studies
 * (experiments/study/, docs/studies.md).
 */
import { Command, Option } from 'commander';
import { join, resolve } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { ConfigError } from '../../errors.js';
import { readStudy, type LoadedStudy } from '../../experiments/study/file.js';
import { estimateCost, MEASURED_STEP_TIMES, type StepTimeTable } from '../../experiments/study/cost.js';
import { PHASES } from '../../experiments/study/graph.js';
import { runStudyLocal, type StudyEvent } from '../../experiments/study/local.js';
import { studyStatus, summarize } from '../../experiments/study/state.js';
import { studyTableText } from '../../experiments/study/table.js';
import { reindexStudy } from '../../experiments/store.js';
import { reindexTruth } from '../../experiments/study/truth.js';
import { buildStudyReport } from '../../experiments/study/report.js';
import { writeFileAtomic } from '../../util/fs.js';
import { cancelStudySlurm, readSlurmRecord, runSlurmTask, slurmJobStates, submitStudySlurm, waitSlurm } from '../../experiments/study/slurm.js';
import { integer, number } from './search.js';

const fmtH = (h: number): string => (h >= 100 ? h.toFixed(0) : h >= 1 ? h.toFixed(1) : h.toFixed(2));

export function formatPlan(s: LoadedStudy, table: StepTimeTable = MEASURED_STEP_TIMES): string {
  const g = s.graph;
  const cost = estimateCost(g, table);
  const hours = (c: { deviceHours: number; unpricedSteps?: number }): string => (c.unpricedSteps ? (c.deviceHours > 0 ? `${fmtH(c.deviceHours)} + n/a` : 'n/a') : fmtH(c.deviceHours));
  const lines = [`study ${g.study}: ${g.jobs.length} jobs (${s.study.benchmarks.length} benchmarks × ${s.study.methods.length} methods)`];
  if (s.study.source) lines.push(`source: ${s.study.source}`);
  lines.push('', 'phase           jobs            steps  device-hours (this machine)');
  for (const c of cost.phases) {
    if (c.jobs === 0 && c.steps === 0) continue;
    const jobs = c.jobs === 0 ? '(in select)' : String(c.jobs);
    lines.push(`${c.phase.padEnd(8)} ${jobs.padStart(11)}  ${c.steps.toLocaleString('en-US').padStart(15)}  ${hours(c).padStart(12)}`);
  }
  lines.push(`${'total'.padEnd(8)} ${String(cost.total.jobs).padStart(11)}  ${cost.total.steps.toLocaleString('en-US').padStart(15)}  ${hours(cost.total).padStart(12)}  (= ${cost.total.unpricedSteps && !cost.total.deviceHours ? 'n/a' : `${fmtH(cost.total.deviceHours / 24)} device-days${cost.total.unpricedSteps ? ' of the priced steps' : ''}`})`);
  lines.push('', `step times: ${table.machine}; ${table.how}; scaled to each job's network by its convolution work`);
  for (const u of cost.unpriced ?? []) lines.push(`estimate unavailable for ${u.space.toUpperCase()} ${u.kind} jobs (${u.steps.toLocaleString('en-US')} steps): the step-time table has no ${u.space} entry (device-hours above leave them out; ${u.space === 'rnn' ? 'docs/lm.md#studies' : 'docs/disparity.md#study-table-2'})`);
  lines.push('GPU: not measured (no GPU was available); pass --seconds-per-step to use your own search step time');
  const first = (ph: string): string | undefined => g.jobs.find((j) => j.phase === ph)?.argv.join(' ');
  lines.push('', 'one job of each phase (run in the study folder):');
  for (const ph of PHASES) {
    const a = first(ph);
    if (a) lines.push(`  ${ph}: rdarts ${a}`);
  }
  if (s.study.phases.select) lines.push("  train: inside each select job (the winner's full training; its cost is the train row)");
  return lines.join('\n') + '\n';
}

function studyEventPrinter(quiet: boolean): (e: StudyEvent) => void {
  return (e) => {
    if (quiet) return;
    const out = (x: string): void => void process.stderr.write(x + '\n');
    switch (e.type) {
      case 'start':
        out(`start ${e.job} (attempt ${e.attempt}${e.resume ? ', resuming' : ''})`);
        break;
      case 'finished':
        out(`finished ${e.job}`);
        break;
      case 'retry':
        out(`retry ${e.job}: ${e.exit}`);
        break;
      case 'failed':
        out(`FAILED ${e.job}: ${e.exit}\n${e.logTail.split('\n').map((l) => '    ' + l).join('\n')}`);
        break;
      case 'blocked':
        out(`blocked ${e.job} (needs ${e.by})`);
        break;
      case 'skipped':
        out(`done earlier ${e.job}`);
        break;
      case 'waiting':
        out(`waiting for ${e.job} (another process writes it)`);
        break;
    }
  };
}

export function register(program: Command): void {
  const study = program.command('study').description('declarative studies: the paper\'s experiments as job graphs, run on a local worker pool or Slurm (plan, run, status, cancel, table, reindex)');

  study
    .command('plan')
    .description('the jobs per phase and their estimated cost (device-hours), before anything is launched')
    .argument('<file>', 'study file (studies/*.yaml) or study folder')
    .option('--seconds-per-step <s>', 'use this search step time (s, at the measured s1 shape) instead of the measured table', number('--seconds-per-step'))
    .option('--json', 'the job graph and the estimate as JSON')
    .action((file: string, f: { secondsPerStep?: number; json?: boolean }) => {
      const s = readStudy(file);
      let table = MEASURED_STEP_TIMES;
      if (f.secondsPerStep !== undefined) {
        const k = f.secondsPerStep / MEASURED_STEP_TIMES.entries[0]!.seconds;
        table = { machine: `user-given search step ${f.secondsPerStep} s (all step times scaled by ${k.toPrecision(3)})`, how: '--seconds-per-step', entries: MEASURED_STEP_TIMES.entries.map((e) => ({ ...e, seconds: e.seconds * k })) };
      }
      if (f.json) {
        process.stdout.write(JSON.stringify({ study: s.study.name, cost: estimateCost(s.graph, table), jobs: s.graph.jobs }) + '\n');
        return;
      }
      process.stdout.write(formatPlan(s, table));
    });

  study
    .command('run')
    .description('run (or continue) a study; finished jobs are never redone, partial ones resume from their checkpoints')
    .argument('<study>', 'study file (with --out) or study folder')
    .option('--out <dir>', 'study folder (default runs/study-<name>)')
    .addOption(new Option('--executor <e>', 'where the jobs run').choices(['local', 'slurm']).default('local'))
    .option('--workers <n>', 'local: worker processes (each gets cores/n threads; default 1)', integer('--workers'))
    .option('--retries <n>', 'further attempts of a job that dies (default 2)', integer('--retries'))
    .option('--quiet', 'no progress lines')
    .option('--wait', 'slurm: wait until the study\'s jobs have left the queue')
    .option('--partition <p>', 'slurm: partition')
    .option('--signal-seconds <s>', 'slurm: requeue this many seconds before the time limit (default 120)', integer('--signal-seconds'))
    .action(async (target: string, f: { out?: string; executor: string; workers?: number; retries?: number; quiet?: boolean; wait?: boolean; partition?: string; signalSeconds?: number }) => {
      const s = readStudy(target);
      const isDir = existsSync(target) && statSync(target).isDirectory();
      const dir = resolve(isDir ? target : (f.out ?? `runs/study-${s.study.name}`));
      if (isDir && f.out && resolve(f.out) !== dir) throw new ConfigError('--out given with a study folder', 'pass either the study file with --out, or the study folder alone');
      if (f.executor === 'slurm') {
        const rec = submitStudySlurm(dir, s, { ...(f.signalSeconds !== undefined ? { signalSeconds: f.signalSeconds } : {}), ...(f.partition ? { partition: f.partition } : {}) });
        for (const a of rec.arrays) process.stdout.write(`${a.phase}: Slurm array ${a.id} (${a.tasks.length} tasks)\n`);
        if (!rec.arrays.length) process.stdout.write('nothing to submit: every job has finished\n');
        if (f.wait) {
          await waitSlurm(dir);
          const st = studyStatus(dir, s.graph);
          const bad = st.filter((x) => x.state !== 'finished');
          process.stdout.write(`study ${s.study.name}: ${st.length - bad.length} finished, ${bad.length} not (${dir})\n`);
          if (bad.length) process.exitCode = 1;
        }
        return;
      }
      const r = await runStudyLocal(dir, s, { ...(f.workers ? { workers: f.workers } : {}), ...(f.retries !== undefined ? { retries: f.retries } : {}), onEvent: studyEventPrinter(f.quiet ?? false) });
      process.stdout.write(`study ${s.study.name}: ${r.finished.length} finished, ${r.failed.length} failed, ${r.blocked.length} blocked (${dir})\n`);
      if (r.failed.length || r.blocked.length) process.exitCode = 1;
    });

  study
    .command('status')
    .description('jobs per phase and state, progress of running ones, failures with their log tail')
    .argument('<dir>', 'study folder')
    .option('--json', 'as JSON')
    .action((dir: string, f: { json?: boolean }) => {
      const s = readStudy(dir);
      const st = studyStatus(resolve(dir), s.graph);
      const slurm = readSlurmRecord(resolve(dir)).arrays.length ? slurmJobStates(resolve(dir)) : null;
      if (f.json) {
        process.stdout.write(JSON.stringify({ study: s.study.name, phases: summarize(st), jobs: st.map((j) => ({ ...j, ...(slurm ? { slurm: slurm.get(j.id) ?? null } : {}) })) }) + '\n');
        return;
      }
      const sum = summarize(st);
      const lines = [`study ${s.study.name} (${resolve(dir)})`];
      for (const ph of PHASES) {
        const c = sum[ph];
        const n = Object.values(c).reduce((a, b) => a + b, 0);
        if (!n) continue;
        lines.push(`  ${ph.padEnd(7)} ${n} jobs: ` + Object.entries(c).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`).join(', '));
      }
      if (slurm) {
        const counts = new Map<string, number>();
        for (const v of slurm.values()) counts.set(v, (counts.get(v) ?? 0) + 1);
        lines.push(`  slurm: ${[...counts].map(([k, v]) => `${v} ${k}`).join(', ')}`);
      }
      for (const j of st.filter((x) => x.state === 'running' || x.state === 'partial')) {
        lines.push(`  ${j.state} ${j.id}${j.progress ? `: epoch ${j.progress.done}/${j.progress.total ?? '?'}` : ''}`);
      }
      for (const j of st.filter((x) => x.state === 'failed')) {
        lines.push(`  failed ${j.id} after ${j.attempts} attempts:`);
        if (j.logTail) lines.push(...j.logTail.split('\n').map((l) => '      ' + l));
      }
      process.stdout.write(lines.join('\n') + '\n');
    });

  study
    .command('cancel')
    .description('scancel exactly the study\'s Slurm jobs')
    .argument('<dir>', 'study folder')
    .action((dir: string) => {
      const ids = cancelStudySlurm(resolve(dir));
      process.stdout.write(ids.length ? `cancelled Slurm arrays ${ids.join(', ')}\n` : 'no Slurm jobs recorded for this study\n');
    });

  study
    .command('job', { hidden: true })
    .description('run one task of a Slurm array (used by the slurm executor)')
    .argument('<dir>', 'study folder')
    .requiredOption('--tasks <file>', 'task list (relative to the study folder)')
    .requiredOption('--index <i>', 'task index', integer('--index'))
    .action(async (dir: string, f: { tasks: string; index: number }) => {
      process.exitCode = await runSlurmTask(dir, readStudy(dir), f.tasks, f.index);
    });

  study
    .command('reindex')
    .description('rebuild the study\'s results store (store.sqlite) from its run folders')
    .argument('<dir>', 'study folder')
    .action((dir: string) => {
      const s = readStudy(dir);
      const path = reindexStudy(resolve(dir), s);
      reindexTruth(resolve(dir), s, path);
      process.stdout.write(`rebuilt ${path} from ${s.graph.jobs.length} job folders\n`);
    });

  study
    .command('report')
    .description('one HTML page: the table and the cross-run figures (λ_max mean ± std per space, error and λ_max vs L2 / drop path, λ_max vs test error)')
    .argument('<dir>', 'study folder')
    .option('--out <file>', 'the page (default DIR/report.html)')
    .action(async (dir: string, f: { out?: string }) => {
      const s = readStudy(dir);
      const r = await buildStudyReport(resolve(dir), s.graph);
      const out = f.out ?? join(dir, 'report.html');
      writeFileAtomic(out, r.html);
      process.stdout.write(`wrote ${out} (${r.figures} figures${r.missing.length ? `, ${r.missing.length} evaluations missing` : ''})\n`);
    });

  study
    .command('table')
    .description("the paper's table from the study's evaluations (mean ± std over seeds, or the selected cell; missing cells shown as missing)")
    .argument('<dir>', 'study folder')
    .addOption(new Option('--format <f>', 'output format').choices(['markdown', 'csv', 'json']).default('markdown'))
    .action((dir: string, f: { format: string }) => {
      const s = readStudy(dir);
      const { text, skipped } = studyTableText(resolve(dir), s.graph, f.format as 'markdown' | 'csv' | 'json');
      process.stdout.write(text.endsWith('\n') ? text : text + '\n');
      for (const m of skipped) process.stderr.write(`missing: ${m}\n`);
    });
}
