import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { buildComparison, buildDomainReport, buildReport, searchDomain } from '../../experiments/reports.js';

interface ReportOpts {
  out?: string;
  json?: boolean;
  compare?: string;
}

/** `rdarts report` — HTML report (and SVG figures) of one or more run folders. */
export function register(program: Command): void {
  program
    .command('report')
    .description('write report.html (curves, λ_max with ES/ADA decisions, spectra, α heatmaps, cells) and plots/*.svg into a run folder')
    .argument('<run-dir...>', 'run folder(s) written by `rdarts search`')
    .option('--out <file>', 'path of the HTML report (default RUN_DIR/report.html; one run folder only)')
    .option('--compare <dir>', 'also write comparison.html/.json of all the runs (λ_max vs error correlations) into this folder')
    .option('--json', 'print a JSON object {"html", "files"} (several runs: {"reports": [...], "comparison"?}) on stdout')
    .action(async (dirs: string[], opts: ReportOpts) => {
      if (opts.out && dirs.length > 1) {
        throw new ConfigError(`--out names one file, but ${dirs.length} run folders were given`, 'drop --out (each report goes into its run folder) or pass one run folder');
      }
      const reports: Array<{ html: string; files: string[]; warnings: string[] }> = [];
      for (const d of dirs) {
        // recurrent and S6 searches have their own, smaller report (curves, λ_max, genotypes: analysis/report/domain.ts)
        const domain = searchDomain(d);
        if (domain && opts.compare) throw new ConfigError(`--compare compares CNN searches; ${d} is a ${domain === 'rnn' ? 'recurrent-cell' : 'S6'} search`, 'drop --compare for it');
        const r = domain ? { ...(await buildDomainReport(d, opts.out ? { out: opts.out } : {})), warnings: [] as string[] } : await buildReport(d, opts.out ? { out: opts.out } : {});
        reports.push({ html: r.htmlPath, files: r.files, warnings: r.warnings });
      }
      const cmp = opts.compare ? await buildComparison(dirs, opts.compare) : null;
      if (opts.json) {
        const comparison = cmp ? { html: cmp.htmlPath, json: cmp.jsonPath, files: cmp.files } : undefined;
        const obj =
          reports.length === 1 && !cmp
            ? { html: reports[0]!.html, files: reports[0]!.files }
            : { reports: reports.map(({ html, files }) => ({ html, files })), ...(comparison ? { comparison } : {}) };
        process.stdout.write(JSON.stringify(obj) + '\n');
        return;
      }
      for (const r of reports) {
        process.stdout.write(`${r.html}\n`);
        process.stdout.write(`  ${r.files.length - 1} figure(s) under ${r.files.length > 1 ? r.files[1]!.replace(/[/\\][^/\\]+$/, '') : '(none)'}\n`);
        for (const w of r.warnings) process.stderr.write(`warning: ${w}\n`);
      }
      if (cmp) process.stdout.write(`${cmp.htmlPath}\n${cmp.jsonPath}\n`);
    });
}
