/**
 * The DARTS macro architecture (docs/spaces.md#supernet, docs/spaces.md#evaluation-network), shared by the search supernet, the
 * evaluation network and the analytic parameter counter: a stem conv of stemMultiplier·C
 * channels, `layers` cells with reductions at ⌊layers/3⌋ and ⌊2·layers/3⌋ (channels doubling
 * there), each cell reading the outputs of the two cells before it.
 */
import { ConfigError } from '../errors.js';

/** Size of a network: what the supernet, the evaluation network and the counter all take. */
export interface NetworkSize {
  /** Initial channels (16 in the paper's search, 36 in DARTS' CIFAR-10 evaluation). */
  C: number;
  /** Number of cells (8 in the paper's search, 20 in DARTS' CIFAR-10 evaluation). */
  layers: number;
  /** Output classes (10 for CIFAR-10). */
  numClasses: number;
  /** Image channels, default 3 (Fashion-MNIST: 1). */
  inChannels?: number;
  /** Stem width = stemMultiplier·C, default 3. */
  stemMultiplier?: number;
}

/**
 * The size with its defaults filled in; every entry must be a positive integer, else a
 * ConfigError prefixed with `who` (e.g. "supernet: C must be a positive integer, got 0").
 */
export function resolveNetworkSize(size: NetworkSize, who: string): Required<NetworkSize> {
  const { C, layers, numClasses } = size;
  const inChannels = size.inChannels ?? 3;
  const stemMultiplier = size.stemMultiplier ?? 3;
  const out = { C, layers, numClasses, inChannels, stemMultiplier };
  for (const [k, v] of Object.entries(out)) {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new ConfigError(`${who}: ${k} must be a positive integer, got ${String(v)}`, 'check the network size settings');
    }
  }
  return out;
}

/** Indices of the reduction cells: ⌊layers/3⌋ and ⌊2·layers/3⌋ (one index when they coincide). */
export function reductionCells(layers: number): number[] {
  return [...new Set([Math.floor(layers / 3), Math.floor((2 * layers) / 3)])];
}

/** Channels and reduction flags of one cell. */
export interface CellLayout {
  index: number;
  /** This cell halves the spatial size (and doubles C). */
  reduction: boolean;
  /** The cell before reduced: input 0 needs a FactorizedReduce. */
  reductionPrev: boolean;
  /** Channels of input 0 (output of cell i−2, or the stem). */
  Cpp: number;
  /** Channels of input 1 (output of cell i−1, or the stem). */
  Cp: number;
  /** Channels of each node inside the cell. */
  C: number;
  /** Channels of the cell output (multiplier·C: the concatenated nodes). */
  Cout: number;
}

export interface MacroLayout {
  /** Stem output channels (stemMultiplier·C). */
  stemChannels: number;
  cells: CellLayout[];
  /** The second reduction cell ⌊2·layers/3⌋, after which DARTS' auxiliary head reads. */
  auxiliaryCell: number;
  /** Channels into the classifier (the last cell's output). */
  outChannels: number;
}

export interface MacroOptions {
  C: number;
  layers: number;
  stemMultiplier: number;
  /** States concatenated into a cell's output, per cell type (search: steps; evaluation: the genotype's concat lengths). */
  multiplier: number | { normal: number; reduce: number };
}

/** The per-cell channel plan of the macro architecture. */
export function macroLayout(o: MacroOptions): MacroLayout {
  const mult = typeof o.multiplier === 'number' ? { normal: o.multiplier, reduce: o.multiplier } : o.multiplier;
  const stemChannels = o.stemMultiplier * o.C;
  const reductions = new Set(reductionCells(o.layers));
  let Cpp = stemChannels;
  let Cp = stemChannels;
  let C = o.C;
  let reductionPrev = false;
  const cells: CellLayout[] = [];
  for (let index = 0; index < o.layers; index++) {
    const reduction = reductions.has(index);
    if (reduction) C *= 2;
    const Cout = (reduction ? mult.reduce : mult.normal) * C;
    cells.push({ index, reduction, reductionPrev, Cpp, Cp, C, Cout });
    reductionPrev = reduction;
    Cpp = Cp;
    Cp = Cout;
  }
  return { stemChannels, cells, auxiliaryCell: Math.floor((2 * o.layers) / 3), outChannels: Cp };
}
