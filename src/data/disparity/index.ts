/** Stereo data for disparity estimation (space S6): datasets, readers, the synthetic stand-in, batches. */
export { stereoFingerprint, stereoShapeProblem, finiteMax, type StereoDataset } from './stereo.js';
export { generateSyntheticStereo, type SyntheticStereo, type SyntheticStereoOptions } from './synthetic.js';
export { readPfm, writePfm, decodePfm, encodePfm, type PfmImage } from './pfm.js';
export { decodePng, encodePng, crc32, type PngImage, type EncodePngOptions } from './png.js';
export { decodeSintelDisparity, pngToRgb, readPngFile, downscaleFrame, centreCropFrame, type StereoFrame } from './frames.js';
export { flyingThingsFrames, sintelFrames, FLYINGTHINGS3D_URL, SINTEL_STEREO_URL, type StereoFiles, type FlyingThingsOptions, type SintelOptions } from './layouts.js';
export { loadStereo, SYNTHETIC_TEST_SEED_OFFSET, type LoadStereoOptions, type StereoKind } from './load.js';
export { stereoBatch, drawPhotometric, type StereoBatch, type StereoBatchOptions, type PhotometricParams } from './augment.js';
