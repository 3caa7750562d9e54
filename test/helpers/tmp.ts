/**
 * The one temp-folder helper of the tests: every test folder is `rdarts-<tag>-XXXXXX` under the
 * system temp dir, and removing it never throws.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh, empty folder `<tmpdir>/rdarts-<tag>-XXXXXX`; the caller removes it (see `removeDir`). */
export function makeTempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `rdarts-${tag}-`));
}

/** Remove a folder and everything in it; a missing folder is fine. */
export function removeDir(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

export interface TempDir {
  /** The folder's absolute path. */
  readonly path: string;
  /** Remove the folder (idempotent). */
  cleanup(): void;
}

/** A fresh folder with its own cleanup, e.g. `const tmp = tempDir('x'); after(tmp.cleanup);`. */
export function tempDir(tag: string): TempDir {
  const path = makeTempDir(tag);
  return { path, cleanup: () => removeDir(path) };
}
