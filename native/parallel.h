// Static row partitioning over the pool, and the per-ISA clone attribute used by the
// non-GEMM kernels (GCC builds one copy per instruction set and picks one at load time; the
// clones compute the same bits: their sums go through lanes.h). -DFMN_NO_CLONES builds one
// copy for the -march given, which test/isa.test.ts uses to compare the levels.
#pragma once
#include <algorithm>

#include "pool.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(FMN_NO_CLONES)
#define FMN_CLONES __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FMN_CLONES
#endif

namespace fmn {

// fn(begin, end) over [0, n) in at most poolThreads() contiguous chunks; runs inline when
// n·costPerItem is below ~64k operations (a wake-up costs more than the work).
template <class F>
void parallelFor(long n, long costPerItem, F&& fn) {
  const int nt = poolThreads();
  if (nt == 1 || n < 2 || n * costPerItem < (1L << 16)) {
    fn(0L, n);
    return;
  }
  const int tasks = (int)std::min<long>(nt, n);
  poolRun(tasks, [&](int t) { fn(n * t / tasks, n * (t + 1) / tasks); });
}

}  // namespace fmn
