/**
 * Candidate operation names (docs/spaces.md#operations). The names are the DARTS / RobustDARTS ones, so
 * genotypes printed here read the same as in the reference code and the published logs.
 * The tensor side (what each op computes) lives in `ops.ts`; this file only knows the names.
 */

export const PRIMITIVES = [
  'none',
  'noise',
  'max_pool_3x3',
  'avg_pool_3x3',
  'skip_connect',
  'sep_conv_3x3',
  'sep_conv_5x5',
  'sep_conv_7x7',
  'dil_conv_3x3',
  'dil_conv_5x5',
  'conv_7x1_1x7',
] as const;

export type PrimitiveName = (typeof PRIMITIVES)[number];

const PRIMITIVE_SET: ReadonlySet<string> = new Set(PRIMITIVES);

export function isPrimitiveName(x: unknown): x is PrimitiveName {
  return typeof x === 'string' && PRIMITIVE_SET.has(x);
}

/** The list of known op names, for error messages. */
export function knownOpsText(): string {
  return PRIMITIVES.join(', ');
}
