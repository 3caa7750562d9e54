/**
 * The evaluation network's size for a cell before anything is trained (`rdarts info --genotype`):
 * parameters without the auxiliary head (DARTS' "param size") and with it.
 */
import { ConfigError } from '../errors.js';
import { EvalNetwork } from '../nas/index.js';
import { DATASET_SHAPES } from '../data/index.js';
import { PAPER_NETWORK_SIZE, EVAL_DATASETS, type EvalDataset } from '../search/eval-config.js';
import { resolveGenotypeSource } from './genotype-source.js';

export function evalNetworkSize(genotypeSpec: string, dataset: string, layers?: number, channels?: number) {
  if (!(EVAL_DATASETS as readonly string[]).includes(dataset)) throw new ConfigError(`unknown dataset '${dataset}'`, `use one of ${EVAL_DATASETS.join(', ')}`);
  const ds = dataset as EvalDataset;
  const g = resolveGenotypeSource(genotypeSpec);
  const L = layers ?? PAPER_NETWORK_SIZE[ds].layers;
  const C = channels ?? PAPER_NETWORK_SIZE[ds].channels;
  const net = new EvalNetwork({ genotype: g.genotype, C, layers: L, numClasses: DATASET_SHAPES[ds].numClasses, inChannels: DATASET_SHAPES[ds].inChannels, auxiliary: true });
  try {
    return {
      parameters: net.numParametersWithoutAuxiliary(),
      parametersWithAux: net.numParameters(),
      genotype: g.source,
      dataset: ds,
      layers: L,
      channels: C,
      numClasses: DATASET_SHAPES[ds].numClasses,
      auxiliaryCell: net.auxiliaryCell,
      reductionCells: [...new Set([Math.floor(L / 3), Math.floor((2 * L) / 3)])],
    };
  } finally {
    net.dispose();
  }
}

