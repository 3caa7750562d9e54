{
  "variables": {
    "libtorch%": "<!(node -p \"process.env.LIBTORCH || ''\")"
  },
  "targets": [
    {
      "target_name": "rdarts_torch",
      "sources": ["src/addon.cc", "src/alloc.cc", "src/depthwise.cc", "src/pointwise.cc", "src/pool.cc", "src/norm.cc", "src/wsum.cc", "src/profile.cc"],
      "include_dirs": [
        "<!(node -p \"require('node-addon-api').include_dir\")"
      ],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-fno-rtti"],
      "cflags_cc!": ["-fno-exceptions", "-fno-rtti", "-std=gnu++17"],
      # -fopenmp: ATen's at::parallel_for only runs in parallel in code compiled with OpenMP
      # (docs/speed.md#threads). Debian's libtorch uses the system libgomp, so the addon links it;
      # a libtorch of its own (pip wheels bundle a renamed libgomp) is not linked against a second
      # OpenMP runtime: the addon's GOMP_* references resolve to the one libtorch already loaded.
      "cflags_cc": ["-std=gnu++17", "-fexceptions", "-frtti", "-O2", "-Wno-deprecated-declarations", "-Wno-unused-parameter", "-fopenmp"],
      "conditions": [
        ["libtorch==''", {
          "include_dirs": ["/usr/include/torch/csrc/api/include"],
          "defines": ["_GLIBCXX_USE_CXX11_ABI=1"],
          "libraries": ["-L/usr/lib/x86_64-linux-gnu", "-Wl,--no-as-needed", "-ltorch", "-ltorch_cpu", "-lc10"],
          "ldflags": ["-fopenmp"]
        }, {
          "include_dirs": ["<(libtorch)/include", "<(libtorch)/include/torch/csrc/api/include"],
          "defines": ["<!(node -p \"'_GLIBCXX_USE_CXX11_ABI=' + (process.env.LIBTORCH_CXX11_ABI ?? '1')\")"],
          "libraries": ["-L<(libtorch)/lib", "-Wl,--no-as-needed", "-Wl,-rpath,<(libtorch)/lib", "-ltorch", "-ltorch_cpu", "-lc10"]
        }]
      ]
    }
  ]
}
