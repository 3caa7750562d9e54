import type { Command } from 'commander';
import * as info from './info.js';
import * as search from './search.js';
import * as demo from './demo.js';
import * as eig from './eig.js';
import * as esReplay from './es-replay.js';
import * as report from './report.js';
import * as analyze from './analyze.js';
import * as evaluation from './evaluation.js';
import * as study from './study.js';
import * as plan from './plan.js';
import * as s5 from './s5.js';

/** Every `rdarts` sub-command, in the order `--help` lists them. */
export const commands: Array<{ register(program: Command): void }> = [demo, search, info, eig, esReplay, report, analyze, ...evaluation.commands, study, s5, plan];
