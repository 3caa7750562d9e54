/** The tiny study the executor tests run (synthetic 8×8 images, 3 cells × 2 channels, 3 epochs of 3 steps). */
const SYN = 'synthetic: { n: 64, channels: 3, size: 8, numClasses: 4 }';
export function tinyStudy(name: string, extraBenchmark = ''): string {
  return [
    `name: ${name}`,
    'benchmarks:',
    '  - { space: s3, dataset: synthetic }',
    extraBenchmark,
    'methods: [darts]',
    'seeds: [1, 2]',
    'resources: { cpus: 1, mem: 1G, time: "00:10:00" }',
    'phases:',
    '  search:',
    `    config: { ${SYN}, epochs: 3, layers: 3, channels: 2, batchSize: 8, stepsPerEpoch: 3, evalBatches: 1, hessian: { every: 1, lanczosIterations: 4, topK: 1 }, analysis: { discretization: "off" } }`,
    '  select:',
    '    config: { synthetic: { n: 64, testN: 16, channels: 3, size: 8, numClasses: 4 }, layers: 3, channels: 2, batchSize: 8, stepsPerEpoch: 2, evalBatches: 1, auxiliary: false }',
    '    shortEpochs: 1',
    '    epochs: 1',
    '  train: {}',
    '',
  ]
    .filter((l) => l !== '')
    .join('\n');
}


/** A study of one tiny search and nothing else (the Slurm requeue test): `epochs` first-order epochs of 2 steps. */
export function tinySearchStudy(name: string, epochs: number): string {
  return [
    `name: ${name}`,
    'benchmarks:',
    '  - { space: s3, dataset: synthetic }',
    'methods: [darts]',
    'seeds: [1]',
    'resources: { cpus: 1, mem: 1G, time: "00:10:00" }',
    'phases:',
    '  search:',
    `    config: { ${SYN}, epochs: ${epochs}, order: first, layers: 3, channels: 2, batchSize: 8, stepsPerEpoch: 2, evalBatches: 1, hessian: { every: 2, lanczosIterations: 4, topK: 1 }, analysis: { discretization: "off" } }`,
    '',
  ].join('\n');
}
