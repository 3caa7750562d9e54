/**
 * Small zod pieces the configuration schemas share (search/config.ts, search/eval-config.ts; the
 * study schema may use them too), and the one way a failed validation is written: a line per
 * issue naming the field. Pure.
 */
import { z } from 'zod';

/** A finite number, optionally within [min, max]; the messages say the bound. */
export const num = (min?: number, max?: number) => {
  let s = z.number().refine(Number.isFinite, 'must be a finite number');
  if (min !== undefined) s = s.refine((v) => v >= min, `must be ≥ ${min}`);
  if (max !== undefined) s = s.refine((v) => v <= max, `must be ≤ ${max}`);
  return s;
};

/** An integer ≥ min. */
export const int = (min: number) => z.number().int('must be an integer').min(min, `must be ≥ ${min}`);

/** The issues of a failed validation, a line each: `  field.path: what it must be` (unknown fields named). */
export function issueLines(error: z.ZodError): string {
  return error.issues
    .map((i) => {
      const path = i.path.length ? i.path.join('.') : '(top level)';
      let msg = i.message;
      if (i.code === 'unrecognized_keys') msg = `unknown field(s) ${(i as { keys?: string[] }).keys?.map((k) => `'${k}'`).join(', ')}`;
      return `  ${path}: ${msg}`;
    })
    .join('\n');
}

/** The `hessian` group every search configuration has (CNN, recurrent, S6; docs/hessian.md). */
export const hessianSchema = () =>
  z
    .object({
      /** measure every k epochs and at the last epoch; 0 = never (methods darts-es/darts-ada force it on) */
      every: int(0),
      method: z.enum(['lanczos', 'full']),
      topK: int(1),
      /** validation batches per measurement (mean and standard error reported) */
      batches: int(1),
      /** add the α weight decay (+archWeightDecay·I) as the reference's logs do */
      includeWeightDecay: z.boolean(),
      lanczosIterations: int(2),
      /** stop when the top Ritz pairs' residual ‖Hs − θs‖ ≤ tol·|θ|; the eigenvalue error is about residual²/gap, far smaller */
      lanczosTol: num(0),
      /**
       * Lanczos stopping: 'top-k' = every top-k residual ≤ tol·|θ|; 'lambda-max' = λ_max's error
       * estimate ≤ tol·λ_max (fewer products, analysis/lanczos.ts). New runs default to
       * 'lambda-max' (DEFAULT_CONFIG); a config.json without the field (a run started before it
       * existed) keeps the rule it ran with, 'top-k'.
       */
      converge: z.enum(['top-k', 'lambda-max']).default('top-k'),
      /** start each Lanczos run from the previous measurement's λ_max vector (slightly perturbed) instead of a random one */
      warmStart: z.boolean().default(false),
    })
    .strict();

/** The `earlyStop` group (DARTS-ES rules, docs/methods.md#darts-es). */
export const earlyStopSchema = () =>
  z
    .object({
      rule: z.enum(['code', 'paper']),
      window: int(1),
      delta: int(1),
      factor: num(1),
      startEpoch: int(0),
      k: int(1),
      threshold: num(0, 1),
    })
    .strict();
