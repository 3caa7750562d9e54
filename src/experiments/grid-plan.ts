/**
 * The plan of an R-DARTS grid (see grid.ts): which methods are grids, the members of a grid
 * configuration and their folder names. Pure: nothing is read or written, so both the grid
 * runner and the single-search runner can use it.
 */
import { join, resolve } from 'node:path';
import { ConfigError } from '../errors.js';
import { validateConfig, type SearchConfig } from '../search/config.js';
import { RUN_FILES } from './run-format.js';

export const GRID_METHODS = ['rdarts-l2', 'rdarts-dp'] as const;
export type GridMethod = (typeof GRID_METHODS)[number];

export function isGridMethod(m: string): m is GridMethod {
  return (GRID_METHODS as readonly string[]).includes(m);
}

export interface GridMember {
  /** folder name under <run>/runs/: l2_3e-4, dp_0.2 */
  name: string;
  parameter: 'weightDecay' | 'dropPath';
  value: number;
  /** absolute path of the member's run folder */
  dir: string;
  /** the member's full configuration (method darts) */
  config: SearchConfig;
}

export interface GridPlan {
  method: GridMethod;
  root: string;
  members: GridMember[];
}

/** Folder name of a grid value: l2_3e-4, l2_2.7e-3, dp_0, dp_0.2. */
export function memberName(parameter: 'weightDecay' | 'dropPath', value: number): string {
  if (parameter === 'dropPath') return `dp_${String(value)}`;
  return `l2_${value === 0 ? '0' : value.toExponential().replace('e+', 'e')}`;
}

/** The members of a grid configuration (pure: nothing is read or written). */
export function planGrid(cfg: SearchConfig, root: string): GridPlan {
  if (!isGridMethod(cfg.method)) throw new ConfigError(`planGrid: method '${cfg.method}' is not a grid method (${GRID_METHODS.join(', ')})`);
  const parameter = cfg.method === 'rdarts-l2' ? 'weightDecay' : 'dropPath';
  const values = cfg.method === 'rdarts-l2' ? cfg.grid.l2 : cfg.grid.dropPath;
  const abs = resolve(root);
  const seen = new Set<string>();
  const members = values.map((value) => {
    const name = memberName(parameter, value);
    if (seen.has(name)) throw new ConfigError(`grid: the value ${value} appears twice in grid.${parameter === 'weightDecay' ? 'l2' : 'dropPath'}`, 'list each value once');
    seen.add(name);
    const config = validateConfig({ ...structuredClone(cfg), method: 'darts', [parameter]: value }, `grid member ${name}`);
    return { name, parameter, value, dir: join(abs, RUN_FILES.members, name), config } as GridMember;
  });
  return { method: cfg.method, root: abs, members };
}
