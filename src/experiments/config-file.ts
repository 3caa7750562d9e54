/**
 * Configuration files: a YAML or JSON mapping of search (or training) fields, merged over the
 * defaults and validated by the configuration's own schema (search/config.ts) afterwards.
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '../errors.js';
import { isPlainObject } from '../search/config.js';

/** Read a YAML or JSON config file into a partial config (validated after merging). */
export function readConfigFile(path: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new ConfigError(`cannot read config file ${path}: ${(e as Error).message}`);
  }
  return parseConfigText(text, path);
}

/** Parse a config file's text: JSON when `path` ends in .json, YAML otherwise. */
export function parseConfigText(text: string, path: string): Record<string, unknown> {
  let data: unknown;
  try {
    data = extname(path).toLowerCase() === '.json' ? JSON.parse(text) : parseYaml(text);
  } catch (e) {
    throw new ConfigError(`config file ${path} is not valid ${extname(path) === '.json' ? 'JSON' : 'YAML'}: ${(e as Error).message}`);
  }
  if (data === null || data === undefined) return {};
  if (!isPlainObject(data)) throw new ConfigError(`config file ${path} must hold a mapping of fields, got ${Array.isArray(data) ? 'a list' : typeof data}`);
  return data;
}
