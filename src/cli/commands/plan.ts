/**
 * rdarts plan [search flags] [--memory-limit 8G] [--calibration-steps 3] [--json]: what a search
 * will cost before it starts (docs/planner.md) — a few calibration steps of the real configuration
 * on this machine and device, then the predicted step, epoch and total time, the worst case of
 * the early-stopping methods, peak memory and the largest batch under the memory limit.
 * Also behind `rdarts search --plan` and `--batch-size auto`.
 */
import { Command } from 'commander';
import { resolveConfig } from '../../search/config.js';
import { readConfigFile } from '../../experiments/config-file.js';
import { formatPlan, planFromFlags, type PlanFlags } from '../plan-format.js';
import { addSearchOptions, flagsToOverrides, integer, type SearchFlags } from './search.js';

export function register(program: Command): void {
  const cmd = program
    .command('plan')
    .description('predict what a search costs on this machine (step, epoch and total time, peak memory, largest batch) from a few calibration steps')
    .option('--memory-limit <size>', 'memory limit, e.g. 8G or 512M: report the largest batch size that fits (auto batch: default 80% of RAM)')
    .option('--calibration-steps <n>', 'timed calibration steps (default 3, after 1 warm-up)', integer('--calibration-steps'));
  addSearchOptions(cmd);
  cmd.action(async (f: SearchFlags & PlanFlags) => {
    const cfg = resolveConfig(f.config ? readConfigFile(f.config) : undefined, flagsToOverrides(f), f.config ?? 'flags');
    const p = await planFromFlags(cfg, f);
    process.stdout.write(f.json ? JSON.stringify(p) + '\n' : formatPlan(p));
  });
}
