/** The JSON form of a genotype (genotypes.jsonl, result.json) and its validating reader. */
import { GenotypeError } from '../errors.js';
import { checkSameSteps, validateConcat, validateGenes, type Genotype, type Locate } from './genotype.js';

/** JSON form: the same fields; `genotypeFromJSON` also reads `normal_concat`/`reduce_concat`. */
export interface GenotypeJSON {
  normal: Array<[string, number]>;
  normalConcat: number[];
  reduce: Array<[string, number]>;
  reduceConcat: number[];
}

export function genotypeToJSON(g: Genotype): GenotypeJSON {
  return {
    normal: g.normal.map(([o, j]) => [o, j]),
    normalConcat: [...g.normalConcat],
    reduce: g.reduce.map(([o, j]) => [o, j]),
    reduceConcat: [...g.reduceConcat],
  };
}

/**
 * Read a genotype from its JSON form (an object, or JSON text). Validates op names, source
 * ranges, two genes per node and concat lists; errors name the field, gene and node.
 */
export function genotypeFromJSON(value: unknown, source = 'genotype'): Genotype {
  let obj = value;
  if (typeof value === 'string') {
    try {
      obj = JSON.parse(value);
    } catch (e) {
      throw new GenotypeError(`${source}: not valid JSON: ${(e as Error).message}`, 'a genotype JSON looks like {"normal": [["sep_conv_3x3", 0], …], "normalConcat": [2, 3, 4, 5], …}');
    }
  }
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new GenotypeError(`${source}: expected an object with normal, normalConcat, reduce, reduceConcat`, 'see genotypeToJSON for the format');
  }
  const o = obj as Record<string, unknown>;
  const where: Locate = (w) => `${source}: ${w}`;
  for (const k of Object.keys(o)) {
    if (!['normal', 'normalConcat', 'normal_concat', 'reduce', 'reduceConcat', 'reduce_concat'].includes(k)) {
      throw new GenotypeError(`${source}: unknown field '${k}'`, 'allowed fields: normal, normalConcat, reduce, reduceConcat');
    }
  }
  const normal = validateGenes(o.normal, 'normal', where);
  const reduce = validateGenes(o.reduce, 'reduce', where);
  const steps = checkSameSteps(normal, reduce, where);
  const nc = o.normalConcat ?? o.normal_concat;
  const rc = o.reduceConcat ?? o.reduce_concat;
  return {
    normal,
    normalConcat: validateConcat(nc, 'normalConcat', steps, where),
    reduce,
    reduceConcat: validateConcat(rc, 'reduceConcat', steps, where),
  };
}
