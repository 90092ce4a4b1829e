// Persistent thread pool: workers poll (yielding) for ~50 µs between jobs, then sleep on a condition variable.
// run(n, fn) calls fn(i) for i in [0, n) across the workers plus the calling thread and
// returns when all calls are done. One job at a time (calls from JS are serialized).
#pragma once
#include <functional>

namespace fmn {

void poolSetThreads(int n);   // total threads including the caller (>= 1)
int poolThreads();
void poolRun(int ntasks, const std::function<void(int)>& fn);

}  // namespace fmn
