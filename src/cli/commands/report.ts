import type { Command } from 'commander';

/** `rdarts report` — not implemented yet. */
export function register(_program: Command): void {
  // placeholder: registers nothing until the command is implemented
}
