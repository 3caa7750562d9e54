#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { RdartsError } from '../errors.js';
import { commands } from './commands/index.js';
import { VERSION } from '../version.js';
import { readEnv } from '../util/env.js';

export function buildProgram(): Command {
  const program = new Command();
  program
    .name('rdarts')
    .description('robust-darts: differentiable architecture search (DARTS) with curvature monitoring (RobustDARTS)')
    .version(VERSION)
    .showHelpAfterError()
    .exitOverride();
  for (const c of commands) c.register(program);
  return program;
}

/** Print an error the way users should see it and return the exit code. */
export function reportError(err: unknown): number {
  if (err instanceof CommanderError) return err.exitCode;
  if (err instanceof RdartsError) {
    process.stderr.write(`error: ${err.describe()}\n`);
    return err.exitCode;
  }
  const e = err as Error;
  process.stderr.write(`error: ${e?.message ?? String(err)}\n`);
  if (readEnv().debug && e?.stack) process.stderr.write(e.stack + '\n');
  return 1;
}

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    process.exitCode = reportError(err);
  }
}

await main();
