// The vectorizable e^x for the backend's own loops (the DFL softmax, the fused detect decode):
// vqi::FastExp, compiled per CPU level with VQI_CPU_CLONES. std::exp was a scalar libm call:
// the loop was 2.4 % of n@640 fp32 and 10 % of t@320x224 int8 (the DFL softmax, [1,16,4,A]).
#pragma once

#include "vqi/base/fast_exp.h"

// Compiled for AVX-512 and AVX2 too (the library is built for baseline x86-64), chosen at load
// by the CPU (GCC function multi-versioning; other compilers, e.g. the clang fuzz build, get
// the baseline loop).
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
#define VQI_CPU_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define VQI_CPU_CLONES
#endif
