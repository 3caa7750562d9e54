/**
 * Command-line flags → configuration overrides. commander leaves a flag that was not given
 * `undefined`; an override object holds only the flags that were given, so the config file and
 * the defaults fill the rest.
 */

/**
 * The given flags among `keys`, in that order, each under its configuration name (`rename` maps a
 * flag to a configuration field of another name; the others keep theirs).
 */
export function givenFlags<F extends object>(f: F, keys: readonly (keyof F & string)[], rename: Partial<Record<keyof F & string, string>> = {}): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const k of keys) {
    const v = f[k];
    if (v !== undefined) o[rename[k] ?? k] = v;
  }
  return o;
}

/** Sets `o[key] = group` when the group holds at least one given flag. */
export function setGroup(o: Record<string, unknown>, key: string, group: Record<string, unknown>): void {
  if (Object.keys(group).length) o[key] = group;
}

/** `--batch-size auto` is resolved by the planner, not by the configuration. */
export function withoutAutoBatch<F extends { batchSize?: number | 'auto' }>(f: F): Omit<F, 'batchSize'> & { batchSize?: number } {
  return { ...f, batchSize: f.batchSize === 'auto' ? undefined : f.batchSize };
}
