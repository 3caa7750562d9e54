/**
 * Where the real stereo datasets' files lie, and the error a user sees when they are not there.
 *
 * FlyingThings3D, the "scene flow datasets" release of Mayer et al. (CVPR 2016, the DispNet
 * paper), from the Freiburg page: "RGB images (cleanpass)" and "Disparity" archives, extracted
 * to
 *   frames_cleanpass/<TRAIN|TEST>/<A|B|C>/<seq>/<left|right>/<frame>.png   (finalpass alike)
 *   disparity/<TRAIN|TEST>/<A|B|C>/<seq>/left/<frame>.pfm                   (positive, left view)
 * The official split is the TRAIN / TEST folders; a list file of relative paths may choose frames.
 *
 * MPI Sintel stereo (Butler et al., ECCV 2012; stereo training data 2015, its README), from
 * sintel.is.tue.mpg.de/stereo, MPI-Sintel-stereo-training-20150305.zip, extracted to
 *   training/<clean|final>_left/<scene>/frame_XXXX.png, training/<clean|final>_right/…
 *   training/disparities/<scene>/frame_XXXX.png   (R·4 + G/2⁶ + B/2¹⁴)
 *   training/outofframe/<scene>/frame_XXXX.png    (1 = not visible in the right view; optional)
 * The stereo release has ground truth for its training set only; both splits read it.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { DataError } from '../../errors.js';

export const FLYINGTHINGS3D_URL = 'https://lmb.informatik.uni-freiburg.de/resources/datasets/SceneFlowDatasets.en.html';
export const SINTEL_STEREO_URL = 'http://sintel.is.tue.mpg.de/stereo';

/** One frame's three files (absolute paths); `mask` is Sintel's out-of-frame mask when present. */
export interface StereoFiles {
  left: string;
  right: string;
  disparity: string;
  mask?: string;
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

function isFile(p: string): boolean {
  try {
    return statSync(p).isFile();
  } catch {
    return false;
  }
}

const sortedDirs = (p: string): string[] => readdirSync(p, { withFileTypes: true }).filter((e) => e.isDirectory()).map((e) => e.name).sort();
const sortedFiles = (p: string, ext: string): string[] =>
  readdirSync(p, { withFileTypes: true }).filter((e) => e.isFile() && e.name.toLowerCase().endsWith(ext)).map((e) => e.name).sort();

function missingError(title: string, what: string, root: string, expected: string[], from: string, missing?: string[]): DataError {
  const note = existsSync(root) ? '' : ` The folder ${root} does not exist.`;
  const miss = missing && missing.length > 0 ? ` Missing: ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}.` : '';
  return new DataError(`${title} ${what} not found: expected ${expected.join(' and ')}.${note}${miss} ${from}`, `pass the dataset folder as root (--data-dir DIR), or use the synthetic stand-in (--dataset synthetic)`);
}

function checkFiles(title: string, root: string, frames: StereoFiles[], expected: string[], from: string): StereoFiles[] {
  const missing: string[] = [];
  for (const f of frames) for (const p of [f.left, f.right, f.disparity]) if (!isFile(p)) missing.push(p);
  if (missing.length > 0) throw missingError(title, 'files', root, expected, from, missing);
  return frames;
}

// --- FlyingThings3D ------------------------------------------------------------------------------

const FT3D_FROM = `FlyingThings3D comes from the Freiburg scene-flow datasets page ${FLYINGTHINGS3D_URL} ("FlyingThings3D": RGB images (cleanpass) and Disparity); extract both archives in one folder.`;

export interface FlyingThingsOptions {
  split: 'train' | 'test';
  /** Image pass (default 'cleanpass'). */
  pass?: 'cleanpass' | 'finalpass';
  /**
   * A list file choosing frames instead of the whole TRAIN/TEST folder: one frame a line, either
   * the left image's path relative to the dataset folder (`frames_cleanpass/TRAIN/A/0000/left/0006.png`,
   * the `frames_<pass>/` prefix optional) or three paths "left right disparity"; '#' starts a comment.
   */
  list?: string;
}

/** The dataset folder: root itself or root/FlyingThings3D (or lower-case). */
function ft3dFolder(root: string, pass: string): string {
  const cands = [root, join(root, 'FlyingThings3D'), join(root, 'flyingthings3d')];
  return cands.find((c) => isDir(join(c, `frames_${pass}`)) || isDir(join(c, 'disparity'))) ?? root;
}

function ft3dFromLeft(folder: string, pass: string, rel: string): StereoFiles {
  const r = rel.replace(/\\/g, '/').replace(/^\.\//, '');
  const inPass = r.startsWith('frames_') ? r.slice(r.indexOf('/') + 1) : r;
  const i = inPass.lastIndexOf('/left/');
  if (i < 0) throw new DataError(`FlyingThings3D list entry "${rel}" has no /left/ folder`, 'list left-image paths like TRAIN/A/0000/left/0006.png');
  const rightRel = `${inPass.slice(0, i)}/right/${inPass.slice(i + 6)}`;
  const dispRel = inPass.replace(/\.png$/i, '.pfm');
  return { left: join(folder, `frames_${pass}`, inPass), right: join(folder, `frames_${pass}`, rightRel), disparity: join(folder, 'disparity', dispRel) };
}

/** The frames of a FlyingThings3D split, sorted by letter, sequence and frame. */
export function flyingThingsFrames(root: string, o: FlyingThingsOptions): StereoFiles[] {
  const pass = o.pass ?? 'cleanpass';
  const r = resolve(root);
  const folder = ft3dFolder(r, pass);
  const S = o.split === 'train' ? 'TRAIN' : 'TEST';
  const expected = [`${join(folder, `frames_${pass}`, S)}/<A|B|C>/<seq>/<left|right>/<frame>.png`, `${join(folder, 'disparity', S)}/<A|B|C>/<seq>/left/<frame>.pfm`];
  if (o.list !== undefined) {
    const listPath = isAbsolute(o.list) ? o.list : isFile(o.list) ? resolve(o.list) : join(folder, o.list);
    if (!isFile(listPath)) throw missingError('FlyingThings3D', `list file ${listPath}`, r, [listPath], FT3D_FROM);
    const frames: StereoFiles[] = [];
    for (const raw of readFileSync(listPath, 'utf8').split(/\r?\n/)) {
      const line = raw.replace(/#.*/, '').trim();
      if (!line) continue;
      const t = line.split(/\s+/);
      if (t.length === 1) frames.push(ft3dFromLeft(folder, pass, t[0]!));
      else if (t.length === 3) frames.push({ left: join(folder, t[0]!), right: join(folder, t[1]!), disparity: join(folder, t[2]!) });
      else throw new DataError(`${listPath}: line "${line}" has ${t.length} fields; expected a left-image path or "left right disparity"`, 'one frame a line');
    }
    if (frames.length === 0) throw new DataError(`${listPath}: the list names no frames`, 'one left-image path a line');
    return checkFiles('FlyingThings3D', r, frames, expected, FT3D_FROM);
  }
  const imgSplit = join(folder, `frames_${pass}`, S);
  if (!isDir(imgSplit) || !isDir(join(folder, 'disparity', S))) throw missingError('FlyingThings3D', `${o.split} split (${S})`, r, expected, FT3D_FROM);
  const frames: StereoFiles[] = [];
  for (const letter of sortedDirs(imgSplit)) {
    for (const seq of sortedDirs(join(imgSplit, letter))) {
      const leftDir = join(imgSplit, letter, seq, 'left');
      if (!isDir(leftDir)) continue;
      for (const f of sortedFiles(leftDir, '.png')) frames.push(ft3dFromLeft(folder, pass, `${S}/${letter}/${seq}/left/${f}`));
    }
  }
  if (frames.length === 0) throw missingError('FlyingThings3D', `${o.split} split (${S}) frames`, r, expected, FT3D_FROM);
  return checkFiles('FlyingThings3D', r, frames, expected, FT3D_FROM);
}

// --- MPI Sintel stereo ---------------------------------------------------------------------------

const SINTEL_FROM = `MPI Sintel stereo comes from ${SINTEL_STEREO_URL} (MPI-Sintel-stereo-training-20150305.zip, the stereo training data); extract it so that training/ lies in the folder.`;

export interface SintelOptions {
  /** Image pass (default 'clean'). */
  pass?: 'clean' | 'final';
}

function sintelFolder(root: string): string {
  const cands = [root, join(root, 'MPI-Sintel-stereo-training-20150305'), join(root, 'sintel-stereo'), join(root, 'Sintel'), join(root, 'sintel')];
  return cands.find((c) => isDir(join(c, 'training', 'disparities'))) ?? root;
}

/** The frames of Sintel's stereo training set, sorted by scene and frame. */
export function sintelFrames(root: string, o: SintelOptions = {}): StereoFiles[] {
  const pass = o.pass ?? 'clean';
  const r = resolve(root);
  const folder = sintelFolder(r);
  const tr = join(folder, 'training');
  const expected = [
    `${join(tr, `${pass}_left`)}/<scene>/frame_XXXX.png`,
    `${join(tr, `${pass}_right`)}/<scene>/frame_XXXX.png`,
    `${join(tr, 'disparities')}/<scene>/frame_XXXX.png`,
  ];
  const dispDir = join(tr, 'disparities');
  if (!isDir(dispDir)) throw missingError('MPI Sintel stereo', 'training set', r, expected, SINTEL_FROM);
  const frames: StereoFiles[] = [];
  for (const scene of sortedDirs(dispDir)) {
    for (const f of sortedFiles(join(dispDir, scene), '.png')) {
      const mask = join(tr, 'outofframe', scene, f);
      frames.push({
        left: join(tr, `${pass}_left`, scene, f),
        right: join(tr, `${pass}_right`, scene, f),
        disparity: join(dispDir, scene, f),
        ...(isFile(mask) ? { mask } : {}),
      });
    }
  }
  if (frames.length === 0) throw missingError('MPI Sintel stereo', 'disparity frames', r, expected, SINTEL_FROM);
  return checkFiles('MPI Sintel stereo', r, frames, expected, SINTEL_FROM);
}
