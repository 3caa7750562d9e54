/**
 * `rdarts info --genotype G …`: the evaluation network's size before anything is trained
 * (parameters without the auxiliary head, as DARTS reports "param size", and with it).
 */
import { ConfigError } from '../../errors.js';
import { evalNetworkSize } from '../../experiments/eval-size.js';

export interface EvalInfoOptions {
  genotype: string;
  dataset: string;
  layers?: string;
  channels?: string;
  json?: boolean;
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
