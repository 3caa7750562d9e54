/** The evaluation commands (issue 8), registered together so index.ts needs one entry. */
import * as train from './train.js';
import * as test from './test.js';
import * as select from './select.js';
import * as table from './table.js';
import * as discretize from './discretize.js';

export const commands = [train, test, select, table, discretize];
