/**
 * `rdarts info --genotype G …`: the evaluation network's size before anything is trained
 * (parameters without the auxiliary head, as DARTS reports "param size", and with it).
 */
import { ConfigError } from '../../errors.js';
import { EvalNetwork } from '../../nas/index.js';
import { resolveGenotypeSource } from '../../experiments/genotype-source.js';
import { PAPER_NETWORK_SIZE, EVAL_DATASETS, type EvalDataset } from '../../search/eval-config.js';

const SHAPES: Record<EvalDataset, { numClasses: number; inChannels: number }> = {
  cifar10: { numClasses: 10, inChannels: 3 },
  cifar100: { numClasses: 100, inChannels: 3 },
  svhn: { numClasses: 10, inChannels: 3 },
  'fashion-mnist': { numClasses: 10, inChannels: 1 },
  synthetic: { numClasses: 10, inChannels: 3 },
};

export interface EvalInfoOptions {
  genotype: string;
  dataset: string;
  layers?: string;
  channels?: string;
  json?: boolean;
}

export function evalNetworkSize(genotypeSpec: string, dataset: string, layers?: number, channels?: number) {
  if (!(EVAL_DATASETS as readonly string[]).includes(dataset)) throw new ConfigError(`unknown dataset '${dataset}'`, `use one of ${EVAL_DATASETS.join(', ')}`);
  const ds = dataset as EvalDataset;
  const g = resolveGenotypeSource(genotypeSpec);
  const L = layers ?? PAPER_NETWORK_SIZE[ds].layers;
  const C = channels ?? PAPER_NETWORK_SIZE[ds].channels;
  const net = new EvalNetwork({ genotype: g.genotype, C, layers: L, numClasses: SHAPES[ds].numClasses, inChannels: SHAPES[ds].inChannels, auxiliary: true });
  try {
    return {
      parameters: net.numParametersWithoutAuxiliary(),
      parametersWithAux: net.numParameters(),
      genotype: g.source,
      dataset: ds,
      layers: L,
      channels: C,
      numClasses: SHAPES[ds].numClasses,
      auxiliaryCell: net.auxiliaryCell,
      reductionCells: [...new Set([Math.floor(L / 3), Math.floor((2 * L) / 3)])],
    };
  } finally {
    net.dispose();
  }
}

export function printEvalNetworkInfo(o: EvalInfoOptions): void {
  const int = (flag: string, v: string | undefined): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!/^\s*\d+\s*$/.test(v) || n < 1) throw new ConfigError(`${flag} must be a positive integer, got '${v}'`);
    return n;
  };
  const r = evalNetworkSize(o.genotype, o.dataset, int('--layers', o.layers), int('--channels', o.channels));
  if (o.json) {
    process.stdout.write(JSON.stringify(r) + '\n');
    return;
  }
  const fmt = (n: number): string => n.toLocaleString('en-US');
  process.stdout.write(
    [
      `evaluation network of ${r.genotype} on ${r.dataset}: ${r.layers} cells, ${r.channels} initial channels, reductions at ${r.reductionCells.join(', ')}, auxiliary head after cell ${r.auxiliaryCell}`,
      `parameters   ${fmt(r.parameters)} (${(r.parameters / 1e6).toFixed(2)} M; ${fmt(r.parametersWithAux)} with the auxiliary head)`,
    ].join('\n') + '\n',
  );
}
