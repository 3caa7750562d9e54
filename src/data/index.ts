/** Public API of the data layer: readers, transforms, splits and loaders on plain typed arrays. */
export {
  DATASET_NAMES,
  DATASET_SHAPES,
  NORMALISATION,
  classCounts,
  datasetFingerprint,
  imageSize,
  selectImages,
  validateDataset,
  type DatasetName,
  type ImageDataset,
  type Split,
} from './dataset.js';
export { readCifar10, readCifar100 } from './cifar.js';
export { readSvhn } from './svhn.js';
export { readFashionMnist, parseIdx, IdxFormatError, type IdxArray } from './idx.js';
export { readMat, readMatHeader, MatFormatError, type MatVariable, type MatClass, type MatNumeric } from './mat.js';
export { syntheticDataset, type SyntheticOptions } from './synthetic.js';
export { SOURCES, CIFAR10_URL, CIFAR100_URL, SVHN_URLS, FASHION_MNIST_SYSTEM_DIR, defaultDataDir, resolveFiles, type DatasetSource, type RemoteFile } from './sources.js';
export { downloadDataset, md5File, type DownloadOptions, type DownloadResult } from './download.js';
export * as ptb from './ptb.js';
export {
  EOS, UNK, TEXT_DATASETS, TEXT_SPLITS, PTB_FILES, PTB_SOURCE, COMMON_LICENSES_DIR, COMMON_LICENSES_FILES, COMMON_LICENSES_VOCAB,
  isTextDatasetName, readPtb, downloadPtb, readCommonLicenses, loadTextCorpus, corpusFromTexts, corpusFingerprint, batchify, getBatch, drawSeqLen,
  type TextCorpus, type TextDatasetName, type TextSplit, type TokenGrid, type TokenBatch, type SeqLenMode, type TextLoadOptions,
} from './ptb.js';
export { extractTarGz, type TarEntry } from './tar.js';
export { loadDataset, loadDatasetSync, isDatasetName, type LoadOptions } from './load.js';
export {
  makeBatch,
  drawAugment,
  renderImage,
  normalisationTable,
  type ArrayBatch,
  type AugmentParams,
  type BatchOptions,
  type CutoutOptions,
} from './transforms.js';
export { trainValSplit, subsetIndices, type TrainValSplit } from './split.js';
export { BatchLoader, RandomBatchSampler, hashIndices, type IndexBatch, type BatchLoaderState, type RandomBatchSamplerState } from './loader.js';
export * from './disparity/index.js';
