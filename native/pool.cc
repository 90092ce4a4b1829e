// Thread pool: the calling thread and the workers take a job's tasks from one counter. Between
// jobs a worker spins for a short while (~tens of µs) on the job generation before it sleeps on
// a condition variable, and the caller spins on the count of finished tasks before it sleeps:
// a training step is hundreds of kernel calls of 10–500 µs each, and waking a sleeping thread
// through the kernel costs ~20 µs on these VMs — as much as a small kernel's whole share of
// work (bench/NOTES.md). A spinning worker costs only its own core while the caller runs
// JavaScript between two calls.
//
// Correctness does not depend on the timing: the task counter carries the job's generation and
// task count (gen 32 bits | n 16 | next 16), and a task is claimed by a compare-and-swap that
// checks the generation, so a worker that was preempted while joining an old job can never run
// a task of a newer one (it reads the job's function only after a successful claim, which keeps
// that job from finishing — and so from being replaced — until the task is done).
#include "pool.h"

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace fmn {
namespace {

inline void cpuRelax() {
#if defined(__x86_64__) || defined(__i386__)
  __builtin_ia32_pause();
#else
  std::this_thread::yield();
#endif
}

constexpr int kSpins = 4096;          // pause instructions before sleeping (~30–60 µs)
constexpr int kMaxTasks = 0xFFFF;     // tasks per job in the counter's 16 bits (run() splits larger jobs)

inline uint64_t pack(uint32_t gen, uint32_t n, uint32_t next) { return ((uint64_t)gen << 32) | ((uint64_t)n << 16) | next; }
inline uint32_t genOf(uint64_t c) { return (uint32_t)(c >> 32); }
inline uint32_t nOf(uint64_t c) { return (uint32_t)(c >> 16) & 0xFFFF; }
inline uint32_t nextOf(uint64_t c) { return (uint32_t)c & 0xFFFF; }

struct Pool {
  std::mutex mu;
  std::condition_variable wake;      // sleeping workers wait here for a new generation
  std::condition_variable finished;  // a sleeping caller waits here for the job's last task
  std::vector<std::thread> workers;
  std::atomic<const std::function<void(int)>*> job{nullptr};
  std::atomic<uint64_t> counter{0};  // gen | n | next task
  std::atomic<uint32_t> generation{0};
  std::atomic<int> done{0};          // tasks of the current job that have run
  std::atomic<int> sleepers{0};      // workers asleep (or about to be) on `wake`
  std::atomic<bool> callerAsleep{false};
  std::atomic<bool> stopping{false};

  // Claims and runs tasks of generation g until none is left; returns how many it ran.
  int drain(uint32_t g) {
    int ran = 0;
    uint64_t c = counter.load(std::memory_order_acquire);
    for (;;) {
      if (genOf(c) != g || nextOf(c) >= nOf(c)) return ran;
      if (!counter.compare_exchange_weak(c, c + 1, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // claimed task nextOf(c) of generation g: the job cannot end (or change) before it is done
      (*job.load(std::memory_order_acquire))((int)nextOf(c));
      ++ran;
      if (done.fetch_add(1, std::memory_order_seq_cst) + 1 == (int)nOf(c) && callerAsleep.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lk(mu);   // the caller checks `done` under the lock: no lost wake-up
        finished.notify_all();
      }
      c = counter.load(std::memory_order_acquire);
    }
  }

  void workerLoop() {
    uint32_t seen = generation.load(std::memory_order_acquire);
    for (;;) {
      uint32_t g;
      int spins = 0;
      while ((g = generation.load(std::memory_order_acquire)) == seen) {
        if (stopping.load(std::memory_order_acquire)) return;
        if (++spins < kSpins) { cpuRelax(); continue; }
        std::unique_lock<std::mutex> lk(mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        wake.wait(lk, [&] { return generation.load(std::memory_order_seq_cst) != seen || stopping.load(); });
        sleepers.fetch_sub(1, std::memory_order_relaxed);
        spins = 0;
      }
      seen = g;
      drain(g);
    }
  }

  void resize(int nworkers) {
    {
      std::lock_guard<std::mutex> lk(mu);
      stopping.store(true);
    }
    wake.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    stopping.store(false);
    for (int i = 0; i < nworkers; ++i) workers.emplace_back([this] { workerLoop(); });
  }

  void runOne(int n, const std::function<void(int)>& fn) {
    // the previous job has ended (every task done), so nobody can claim from the counter now
    const uint32_t g = generation.load(std::memory_order_relaxed) + 1;
    job.store(&fn, std::memory_order_relaxed);
    done.store(0, std::memory_order_relaxed);
    counter.store(pack(g, (uint32_t)n, 0), std::memory_order_release);
    generation.store(g, std::memory_order_seq_cst);
    if (sleepers.load(std::memory_order_seq_cst) > 0) {
      { std::lock_guard<std::mutex> lk(mu); }
      wake.notify_all();
    }
    drain(g);
    for (int spins = 0; done.load(std::memory_order_acquire) != n; ++spins) {
      if (spins < kSpins) { cpuRelax(); continue; }
      std::unique_lock<std::mutex> lk(mu);
      callerAsleep.store(true, std::memory_order_seq_cst);
      finished.wait(lk, [&] { return done.load(std::memory_order_seq_cst) == n; });
      callerAsleep.store(false, std::memory_order_relaxed);
      break;
    }
  }

  void run(int n, const std::function<void(int)>& fn) {
    if (n <= 0) return;
    if (n == 1 || workers.empty()) {
      for (int i = 0; i < n; ++i) fn(i);
      return;
    }
    for (int base = 0; base < n; base += kMaxTasks) {
      const int m = std::min(kMaxTasks, n - base);
      if (base == 0 && m == n) runOne(n, fn);
      else runOne(m, [&](int i) { fn(base + i); });
    }
  }

  ~Pool() { resize(0); }
};

Pool& pool() {
  static Pool p;
  return p;
}
int g_threads = 1;

}  // namespace

void poolSetThreads(int n) {
  if (n < 1) n = 1;
  if (n > 256) n = 256;
  if (n == g_threads) return;
  pool().resize(n - 1);
  g_threads = n;
}

int poolThreads() { return g_threads; }

void poolRun(int ntasks, const std::function<void(int)>& fn) { pool().run(ntasks, fn); }

}  // namespace fmn
