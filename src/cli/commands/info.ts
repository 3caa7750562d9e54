import type { Command } from 'commander';
import { ConfigError } from '../../errors.js';
import { DATASET_NAMES, DATASET_SHAPES, type DatasetName } from '../../data/dataset.js';
import { alphaShape, alphaSizes, loadSpaceFile, resolveSpace, type SearchSpace } from '../../nas/spaces.js';
import { reductionCells } from '../../nas/macro.js';
import { countSearchParameters } from '../../nas/param-count.js';
import { printEvalNetworkInfo } from './eval-info.js';

interface InfoOptions {
  space?: string;
  spaceFile?: string;
  dataset: string;
  layers: string;
  channels: string;
  json?: boolean;
}

function positiveInt(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\s*\d+\s*$/.test(value) || !Number.isInteger(n) || n < 1) {
    throw new ConfigError(`${flag} must be a positive integer, got '${value}'`, `pass e.g. ${flag} ${flag === '--layers' ? 8 : 16}`);
  }
  return n;
}

function isDataset(s: string): s is DatasetName {
  return (DATASET_NAMES as readonly string[]).includes(s);
}

const fmt = (n: number) => n.toLocaleString('en-US');

/** `rdarts info` — size of the search supernet and of α for a space and dataset. */
export function register(program: Command): void {
  program
    .command('info')
    .description('build the search supernet for a space and dataset and print its parameter count and α shape')
    .option('--space <name>', 'shipped search space (darts, s1, s2, s3, s4)')
    .option('--space-file <path>', 'a user-defined search space (.json/.yaml) instead of --space')
    .option('--dataset <name>', `dataset: ${DATASET_NAMES.join(', ')}`, 'cifar10')
    .option('--layers <n>', 'number of cells', '8')
    .option('--channels <n>', 'initial channels C', '16')
    .option('--json', 'print one JSON object {"parameters", "alphaShape", ...} on stdout')
    .option('--genotype <g>', 'print the evaluation network of this cell instead (parameters with and without the auxiliary head)')
    .action((opts: InfoOptions & { genotype?: string }) => {
      if (opts.genotype !== undefined) return printEvalNetworkInfo({ ...opts, genotype: opts.genotype });
      if (opts.space !== undefined && opts.spaceFile !== undefined) {
        throw new ConfigError('give either --space or --space-file, not both', 'drop one of the two flags');
      }
      if (opts.space === undefined && opts.spaceFile === undefined) {
        throw new ConfigError('no search space given', 'pass --space s1 (darts, s1, s2, s3, s4) or --space-file PATH');
      }
      const space: SearchSpace = opts.spaceFile !== undefined ? loadSpaceFile(opts.spaceFile) : resolveSpace(opts.space!);
      if (!isDataset(opts.dataset)) {
        throw new ConfigError(`unknown dataset '${opts.dataset}'; known datasets: ${DATASET_NAMES.join(', ')}`, 'pick one of the known datasets');
      }
      const layers = positiveInt('--layers', opts.layers);
      const C = positiveInt('--channels', opts.channels);
      const shape = DATASET_SHAPES[opts.dataset];
      const size = { C, layers, numClasses: shape.numClasses, inChannels: shape.inChannels };
      // The analytic count; that the built supernet has exactly this many is checked by
      // test/nas/param-count.test.ts for every shipped space and dataset shape.
      const parameters = countSearchParameters(space, size);
      const analytic = parameters;
      const archParameters = alphaSizes(space);

      const a = alphaShape(space);
      const edges = a.normal.edges;
      const maxOps = Math.max(a.normal.maxOps, a.reduce.maxOps);
      const ragged = !(a.normal.uniform && a.reduce.uniform && a.normal.maxOps === a.reduce.maxOps);
      const reductions = reductionCells(layers);

      if (opts.json) {
        const out: Record<string, unknown> = {
          parameters,
          alphaShape: [2, edges, maxOps],
          ragged,
          archParameters,
          analyticParameters: analytic,
          space: space.name,
          dataset: opts.dataset,
          layers,
          channels: C,
          numClasses: shape.numClasses,
          inChannels: shape.inChannels,
          reductionCells: reductions,
          cells: {
            normal: { alphaShape: [edges, a.normal.maxOps], opsPerEdge: a.normal.opsPerEdge, entries: a.normal.size },
            reduce: { alphaShape: [edges, a.reduce.maxOps], opsPerEdge: a.reduce.opsPerEdge, entries: a.reduce.size },
          },
        };
        if (ragged) {
          out.raggedNote = 'edges have different op counts: α is stored per cell type as [edges, maxOps] with padded entries masked out of the softmax; alphaShape gives the largest row length';
        }
        process.stdout.write(JSON.stringify(out) + '\n');
        return;
      }

      const lines: string[] = [];
      lines.push(`space        ${space.name}${space.description ? ` — ${space.description}` : ''}`);
      lines.push(`dataset      ${opts.dataset} (${shape.numClasses} classes, ${shape.inChannels} input channel${shape.inChannels > 1 ? 's' : ''})`);
      lines.push(`network      ${layers} cells, ${C} initial channels, ${space.steps} nodes per cell, reduction cells at ${reductions.join(', ')}`);
      lines.push(`parameters   ${fmt(parameters)} (analytic count ${fmt(analytic)}: agrees; α not included)`);
      if (!ragged) {
        lines.push(`α            2 × ${edges} × ${maxOps} = ${archParameters} entries (alphaNormal and alphaReduce, each [${edges}, ${maxOps}])`);
      } else {
        lines.push(`α            ${archParameters} entries; edges have different op counts (ragged)`);
        for (const cell of ['normal', 'reduce'] as const) {
          const s = a[cell];
          lines.push(`  ${cell.padEnd(10)} ${s.size} entries, ops per edge [${s.opsPerEdge.join(', ')}], stored as [${edges}, ${s.maxOps}]${s.uniform ? '' : ' with padding masked'}`);
        }
      }
      if (opts.spaceFile !== undefined) {
        for (const cell of ['normal', 'reduce'] as const) {
          const ops = [...new Set(space[cell].flat())];
          lines.push(`  ${cell.padEnd(10)} ops used: ${ops.join(', ')}`);
        }
      }
      process.stdout.write(lines.join('\n') + '\n');
    });
}
