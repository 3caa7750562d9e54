import type { Command } from 'commander';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Option } from 'commander';
import { buildTable, tableToCsv, tableToHtml, tableToJson, tableToMarkdown, METHOD_LABELS, datasetLabel, type TableFigure } from '../../analysis/table.js';
import { collectTableEntries } from '../../experiments/table-input.js';
import { parseGenotypeRepr, renderCellsSvg } from '../../nas/index.js';
import { ConfigError } from '../../errors.js';

interface TableFlags {
  format?: 'markdown' | 'csv' | 'json' | 'html';
  out?: string;
  figures?: boolean;
}

/** `rdarts table RUN_OR_DIR…` — finished evaluations in the paper's Table 3 layout. */
export function register(program: Command): void {
  program
    .command('table')
    .description("collect finished evaluations (rdarts select / rdarts train folders, or folders holding them) into the paper's table: rows dataset × space, columns RS-ws, DARTS, R-DARTS(DP), R-DARTS(L2), DARTS-ES, DARTS-ADA")
    .argument('<paths...>', 'selection folders, training run folders, or folders holding them')
    .addOption(new Option('--format <f>', 'what to print on stdout (default markdown)').choices(['markdown', 'csv', 'json', 'html']))
    .option('--out <dir>', 'write table.md, table.csv, table.json and table.html (with the cell diagrams) into <dir>')
    .option('--no-figures', 'leave the cell diagrams out of the HTML page')
    .action(async (paths: string[], f: TableFlags) => {
      const input = collectTableEntries(paths);
      for (const s of input.skipped) process.stderr.write(`skipped ${s}\n`);
      if (!input.entries.length) throw new ConfigError('no finished evaluation found to tabulate', 'pass `rdarts select` folders or `rdarts train` folders trained on the test split, whose cells came from search runs');
      const table = buildTable(input.entries);
      const html = async (): Promise<string> => {
        const figures: TableFigure[] = [];
        if (f.figures !== false) {
          for (const [i, e] of input.entries.entries()) {
            const repr = input.reprs[i];
            if (!repr) continue;
            const cells = await renderCellsSvg(parseGenotypeRepr(repr, e.source));
            const label = `${datasetLabel(e.dataset)} ${e.space.toUpperCase()} ${METHOD_LABELS[e.method]}`;
            figures.push({ title: `${label}: normal cell`, svg: cells.normal }, { title: `${label}: reduction cell`, svg: cells.reduce });
          }
        }
        return tableToHtml(table, { figures });
      };
      if (f.out) {
        mkdirSync(f.out, { recursive: true });
        writeFileSync(join(f.out, 'table.md'), tableToMarkdown(table));
        writeFileSync(join(f.out, 'table.csv'), tableToCsv(table));
        writeFileSync(join(f.out, 'table.json'), tableToJson(table));
        writeFileSync(join(f.out, 'table.html'), await html());
      }
      const fmt = f.format ?? 'markdown';
      if (!f.out || f.format) {
        process.stdout.write(fmt === 'csv' ? tableToCsv(table) : fmt === 'json' ? tableToJson(table) : fmt === 'html' ? await html() : tableToMarkdown(table));
      } else {
        process.stdout.write(`wrote table.md, table.csv, table.json, table.html to ${f.out}\n`);
      }
    });
}
