{
  # fmn_native: the native kernel backend (see native/). Built by scripts/build-native.mjs.
  # No -march flags: AVX-512 / AVX2 code paths carry their own target attributes and are
  # chosen at run time (sgemm.cc, FMN_CLONES in parallel.h); so are the bf16 (AVX512-BF16, AMX) GEMMs.
  "targets": [
    {
      "target_name": "fmn_native",
      "sources": [
        "native/binding.cc",
        "native/pool.cc",
        "native/sgemm.cc",
        "native/sgemm_avx512.cc",
        "native/sgemm_avx2.cc",
        "native/sgemm_scalar.cc",
        "native/sgemm_bf16_avx512.cc",
        "native/sgemm_bf16_amx.cc",
        "native/norm.cc",
        "native/activation.cc",
        "native/activation_avx512.cc",
        "native/softmax.cc",
        "native/elementwise.cc",
        "native/embedding.cc",
        "native/loss.cc",
        "native/attention.cc",
        "native/attention_avx512.cc",
        "native/adamw.cc",
        "native/peak.cc",
        "native/openblas.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS"],
      "cflags!": ["-fno-exceptions", "-O2", "-O3"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17", "-std=gnu++1y", "-O2"],
      "cflags": ["-O3", "-fno-math-errno", "-fopenmp-simd", "-fexceptions"],
      "cflags_cc": ["-O3", "-std=c++17", "-fno-math-errno", "-fopenmp-simd", "-fexceptions"],
      "libraries": ["-ldl", "-lpthread"]
    }
  ]
}
