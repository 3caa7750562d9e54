/**
 * `rdarts s5 truth`: the S5 ground-truth table as a study (experiments/study/truth.ts,
 * docs/s5.md#rdarts-s5-truth): all 81 genotypes × k seeds trained from scratch on the local pool
 * or Slurm, each job one run folder and one `rdarts train --genotype …` command; when every job
 * has finished, the table (JSON + CSV) is written and indexed in the study's store.
 */
import { Command, Option } from 'commander';
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { ConfigError } from '../../errors.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { parseStudy, readStudy, type LoadedStudy } from '../../experiments/study/file.js';
import { runStudyLocal, type StudyEvent } from '../../experiments/study/local.js';
import { submitStudySlurm, waitSlurm } from '../../experiments/study/slurm.js';
import { studyStatus } from '../../experiments/study/state.js';
import { estimateCost } from '../../experiments/study/cost.js';
import { finishTruthStudy, truthJobs, truthStudyText, writeTruthTable, TRUTH_PROTOCOLS } from '../../experiments/study/truth.js';
import { integer } from './search.js';

interface TruthFlags {
  out?: string;
  protocol: string;
  dataset?: string;
  dataDir?: string;
  seeds?: number[];
  config?: string;
  epochs?: number;
  only?: string[];
  limit?: number;
  executor: string;
  workers?: number;
  retries?: number;
  wait?: boolean;
  partition?: string;
  signalSeconds?: number;
  table?: string;
  plan?: boolean;
  quiet?: boolean;
}

const shellQuote = (a: string): string => (/^[A-Za-z0-9_./:=,+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);

/** The options that define the study (not where or how it runs), as a command line. */
function reproducingCommand(f: TruthFlags): string {
  const a = ['rdarts', 's5', 'truth', '--protocol', f.protocol];
  if (f.dataset) a.push('--dataset', f.dataset);
  if (f.dataDir) a.push('--data-dir', f.dataDir);
  if (f.seeds) a.push('--seeds', f.seeds.join(','));
  if (f.config) a.push('--config', f.config);
  if (f.epochs) a.push('--epochs', String(f.epochs));
  if (f.only) a.push('--only', f.only.join(','));
  if (f.limit) a.push('--limit', String(f.limit));
  return a.map(shellQuote).join(' ');
}

function printer(quiet: boolean): (e: StudyEvent) => void {
  return (e) => {
    if (quiet) return;
    const out = (x: string): void => void process.stderr.write(x + '\n');
    if (e.type === 'start') out(`start ${e.job}${e.resume ? ' (resuming)' : ''}`);
    else if (e.type === 'finished') out(`finished ${e.job}`);
    else if (e.type === 'retry') out(`retry ${e.job}: ${e.exit}`);
    else if (e.type === 'failed') out(`FAILED ${e.job}: ${e.exit}\n${e.logTail.split('\n').map((l) => '    ' + l).join('\n')}`);
    else if (e.type === 'waiting') out(`waiting for ${e.job} (another process writes it)`);
  };
}

async function finish(dir: string, s: LoadedStudy, f: TruthFlags): Promise<void> {
  const tables = await finishTruthStudy(dir, s, { onNote: (m) => (f.quiet ? undefined : process.stderr.write(m + '\n')) });
  for (const c of tables) {
    const es = c.table.entries;
    const best = es.reduce((a, e) => (e.testError.mean < a.testError.mean ? e : a), es[0]!);
    const worst = es.reduce((a, e) => (e.testError.mean > a.testError.mean ? e : a), es[0]!);
    const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
    process.stdout.write(`${c.benchmark}: ${es.length} genotypes × ${best.seeds} seeds; best ${best.key} test error ${pct(best.testError.mean)} ± ${pct(best.testError.std)}, worst ${pct(worst.testError.mean)}\n`);
    process.stdout.write(`wrote ${c.files.json} and ${c.files.csv} (indexed in ${join(dir, 'store.sqlite')})\n`);
    if (f.table) {
      if (tables.length > 1) throw new ConfigError('--table with a study of several benchmarks', 'copy the tables from the study folder\'s truth/');
      const w = writeTruthTable(resolve(f.table), c.table);
      process.stdout.write(`wrote ${w.json} and ${w.csv}\n`);
    }
  }
}

export function register(program: Command): void {
  const s5 = program.command('s5').description("the paper's S5 (81 architectures with a known optimum): the ground-truth table (docs/s5.md)");
  const protocols = Object.entries(TRUTH_PROTOCOLS)
    .map(([k, p]) => `  ${k}: ${p.description}`)
    .join('\n');
  s5.command('truth')
    .description('train every S5 genotype × k seeds from scratch as a study (local pool or Slurm), then write the ground-truth table (JSON + CSV) and index it in the study store; run again to continue (nothing finished is retrained)')
    .argument('[dir]', 'an existing ground-truth study folder to continue')
    .option('--out <dir>', 'study folder (default runs/s5-truth-<dataset>-<protocol>)')
    .addOption(new Option('--protocol <name>', 'training protocol').choices(Object.keys(TRUTH_PROTOCOLS)).default('mini'))
    .option('--dataset <name>', "dataset (default: the protocol's)")
    .option('--data-dir <dir>', 'folder with the dataset files')
    .option('--seeds <list>', "comma-separated seeds (default: the protocol's)", (v: string) => v.split(',').map((x) => integer('--seeds')(x.trim())))
    .option('--config <file>', "YAML/JSON file with training fields over the protocol's (rdarts train --config)")
    .option('--epochs <n>', 'epochs of every training (over the protocol)', integer('--epochs'))
    .option('--only <keys>', 'only these genotypes (comma-separated S5 keys, docs/s5.md)', (v: string) => v.split(',').map((x) => x.trim()).filter(Boolean))
    .option('--limit <n>', 'only the first n genotypes of the enumeration (a partial table; for trying the set-up)', integer('--limit'))
    .addOption(new Option('--executor <e>', 'where the trainings run').choices(['local', 'slurm']).default('local'))
    .option('--workers <n>', 'local: worker processes (each gets cores/n threads; default 1)', integer('--workers'))
    .option('--retries <n>', 'local: further attempts of a training that dies (default 2)', integer('--retries'))
    .option('--wait', 'slurm: wait for the array, then write the table')
    .option('--partition <p>', 'slurm: partition')
    .option('--signal-seconds <s>', 'slurm: requeue this many seconds before the time limit (default 120)', integer('--signal-seconds'))
    .option('--table <file.json>', 'also write the table here (and the CSV beside it, same name)')
    .option('--plan', 'print the jobs, their estimated cost and one command, and run nothing')
    .option('--quiet', 'no progress lines')
    .addHelpText('after', `\nProtocols (ours: the paper does not give S5's):\n${protocols}\n\nEach training: rdarts train --genotype <JSON> --config configs/truth__<bench>__s<seed>.json --out truth/<bench>/<genotype>/s<seed> (run in the study folder). See docs/s5.md.`)
    .action(async (target: string | undefined, f: TruthFlags) => {
      let s: LoadedStudy;
      let dir: string;
      if (target) {
        if (!existsSync(target) || !statSync(target).isDirectory()) throw new ConfigError(`${target} is not a study folder`, 'pass the folder of a ground-truth study, or no argument (with --out) to start one');
        s = readStudy(target);
        dir = resolve(target);
        if (!truthJobs(s.graph).length) throw new ConfigError(`${target} is not a ground-truth study (it has no truth phase)`, 'run it with `rdarts study run`');
      } else {
        const extra = f.config ? readConfigFile(f.config) : {};
        const text = truthStudyText({
          protocol: f.protocol,
          ...(f.dataset ? { dataset: f.dataset } : {}),
          ...(f.dataDir ? { dataDir: resolve(f.dataDir) } : {}),
          ...(f.seeds ? { seeds: f.seeds } : {}),
          config: { ...extra, ...(f.epochs ? { epochs: f.epochs } : {}) },
          ...(f.only ? { genotypes: f.only } : {}),
          ...(f.limit ? { limit: f.limit } : {}),
          command: reproducingCommand(f),
        });
        // named by the command, not a file: a folder holding another study is then refused (prepareStudyDir compares the texts)
        s = parseStudy(text, 'rdarts s5 truth');
        dir = resolve(f.out ?? `runs/${s.study.name}`);
      }
      const jobs = truthJobs(s.graph);
      if (f.plan) {
        const cost = estimateCost(s.graph);
        process.stdout.write(`study ${s.study.name}: ${jobs.length} trainings (${new Set(jobs.map((j) => j.dir.split('/')[2])).size} genotypes × ${s.study.seeds.length} seeds), ${cost.total.steps.toLocaleString('en-US')} steps, ~${cost.total.deviceHours.toFixed(2)} device-hours by the study cost table\n`);
        process.stdout.write(`folder: ${dir}\none training (run in the folder): rdarts ${jobs[0]!.argv.map(shellQuote).join(' ')}\n`);
        return;
      }
      if (f.executor === 'slurm') {
        const rec = submitStudySlurm(dir, s, { ...(f.signalSeconds !== undefined ? { signalSeconds: f.signalSeconds } : {}), ...(f.partition ? { partition: f.partition } : {}) });
        for (const a of rec.arrays) process.stdout.write(`${a.phase}: Slurm array ${a.id} (${a.tasks.length} tasks)\n`);
        if (!f.wait) {
          if (studyStatus(dir, s.graph).every((x) => x.state === 'finished')) await finish(dir, s, f);
          else process.stdout.write(`when the array has finished, write the table with: rdarts s5 truth ${shellQuote(dir)}\n`);
          return;
        }
        await waitSlurm(dir);
      } else {
        const r = await runStudyLocal(dir, s, { ...(f.workers ? { workers: f.workers } : {}), ...(f.retries !== undefined ? { retries: f.retries } : {}), onEvent: printer(f.quiet ?? false) });
        if (!f.quiet) process.stderr.write(`study ${s.study.name}: ${r.finished.length} finished, ${r.failed.length} failed (${dir})\n`);
      }
      const open = studyStatus(dir, s.graph).filter((x) => x.state !== 'finished');
      if (open.length) {
        process.stdout.write(`${open.length} trainings have not finished (${open.slice(0, 3).map((x) => `${x.id}: ${x.state}`).join('; ')}${open.length > 3 ? '; …' : ''}); no table written. \`rdarts study status ${shellQuote(dir)}\` lists them; run \`rdarts s5 truth ${shellQuote(dir)}\` again to continue\n`);
        process.exitCode = 1;
        return;
      }
      await finish(dir, s, f);
    });
}
