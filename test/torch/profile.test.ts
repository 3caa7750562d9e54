/**
 * libtorch's operator profiler through the addon (profileStart/profileStop, docs/speed.md#profiling):
 * it sees libtorch's operators and the addon's own kernels, nests them (self ≤ total), counts
 * calls, and refuses to start twice or stop when not running.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { F, grad, profileStart, profileStop, randn, setDepthwiseKernel, tidy } from '../../src/torch/index.js';

test('profiler: one row per operator with calls and nested times, the addon kernels included', () => {
  const prev = setDepthwiseKernel('native');
  try {
    profileStart();
    assert.throws(() => profileStart(), /already running/);
    tidy(() => {
      const x = randn([2, 3, 8, 40]).requiresGrad_(); // 40 wide: the direct depthwise forward (docs/speed.md#depthwise)
      const w = randn([3, 1, 3, 3]).requiresGrad_();
      const w2 = randn([3, 3, 1, 1]).requiresGrad_();
      const b2 = randn([3]);
      for (let i = 0; i < 3; i++) {
        // a depthwise conv, a max pooling and a 1×1 conv (the addon's), a 1×1 conv with a bias (libtorch's)
        const p = F.maxPool2d(F.conv2d(x, w, null, { padding: 1, groups: 3 }), 3, { stride: 1, padding: 1 });
        const y = F.conv2d(F.conv2d(p, w2, null, {}), w2, b2, {});
        grad(y.sum(), [x, w, w2]);
      }
    });
    const rows = profileStop();
    const by = new Map(rows.map((r) => [r.name, r]));
    const conv = by.get('aten::conv2d');
    assert.ok(conv, `aten::conv2d missing from ${rows.map((r) => r.name).join(', ')}`);
    assert.ok(conv.calls >= 3, `conv2d calls ${conv.calls}`);
    assert.equal(by.get('rdarts::max_pool2d')?.calls, 3, 'the native max pooling ran three times');
    assert.equal(by.get('rdarts::depthwise_weight_grad')?.calls, 3, 'the native weight gradient ran three times');
    assert.ok((by.get('rdarts::depthwise_conv2d')?.calls ?? 0) >= 6, 'the native depthwise forward ran (forward and input gradient)');
    assert.equal(by.get('rdarts::pointwise_weight_grad')?.calls, 3, 'the native 1×1 weight gradient ran three times');
    for (const r of rows) {
      assert.ok(r.selfUs <= r.totalUs + 1e-6 && r.selfUs >= -1e-6, `${r.name}: self ${r.selfUs} µs, total ${r.totalUs} µs`);
    }
    // conv2d calls into the convolution below it: its inclusive time exceeds its own
    assert.ok(conv.totalUs > conv.selfUs, 'conv2d has children');
    for (let i = 1; i < rows.length; i++) assert.ok(rows[i - 1]!.selfUs >= rows[i]!.selfUs, 'sorted by self time');
    assert.throws(() => profileStop(), /not running/);
  } finally {
    setDepthwiseKernel(prev);
  }
});
