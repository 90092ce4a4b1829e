// Thread pool: the calling thread and the workers take a job's tasks from one counter. Between
// jobs a worker keeps polling the job generation for up to ~50 µs (yielding the core to any
// other runnable thread at every poll) before it sleeps on a condition variable, and the caller
// does the same on the count of finished tasks: a training step is hundreds of kernel calls of
// 10–500 µs each, and waking a sleeping thread through the kernel costs ~20 µs on these VMs — as
// much as a small kernel's whole share of work (bench/NOTES.md). Polling with sched_yield rather
// than `pause` keeps two processes that share the cores (vitest's workers, two sweep cells) from
// burning each other's time: measured on 2 cores with two 2-thread processes, pause-spinning made
// each job 1.3× slower than sleeping, yield-polling 0.95×.
//
// Correctness does not depend on the timing: the task counter carries the job's generation and
// task count (gen 32 bits | n 16 | next 16), and a task is claimed by a compare-and-swap that
// checks the generation, so a worker that was preempted while joining an old job can never run
// a task of a newer one (it reads the job's function only after a successful claim, which keeps
// that job from finishing — and so from being replaced — until the task is done).
#include "pool.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <vector>

namespace fmn {
namespace {

// Polls `ready` for up to kPoll, yielding the core at every poll; true if it became ready.
template <class Ready>
bool pollFor(Ready ready) {
  constexpr auto kPoll = std::chrono::microseconds(50);
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (ready()) return true;
    std::this_thread::yield();
    if ((i & 7) == 7 && std::chrono::steady_clock::now() - start > kPoll) return ready();
  }
}

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
  uint32_t share = 2;                // 2 × threads (set with the workers): a claim's fraction of the tasks left
  std::atomic<int> sleepers{0};      // workers asleep (or about to be) on `wake`
  std::atomic<bool> callerAsleep{false};
  std::atomic<bool> stopping{false};

  // Claims and runs tasks of generation g until none is left; returns how many it ran. Each
  // claim takes consecutive tasks, 1/(2·threads) of those left (guided: large claims first,
  // single tasks at the end, so the threads still finish together). A claim and its `done`
  // count are two cache-line transfers between cores: for a job of many small tasks
  // (attention's heads on a short batch, ~2 µs each) one per task cost a quarter of the work.
  int drain(uint32_t g) {
    int ran = 0;
    uint64_t c = counter.load(std::memory_order_acquire);
    for (;;) {
      if (genOf(c) != g || nextOf(c) >= nOf(c)) return ran;
      const uint32_t first = nextOf(c), take = std::max<uint32_t>(1, (nOf(c) - first) / share);
      if (!counter.compare_exchange_weak(c, c + take, std::memory_order_acq_rel, std::memory_order_acquire)) continue;
      // claimed tasks first..first+take of generation g: the job cannot end (or change) before they are done
      const auto& fn = *job.load(std::memory_order_acquire);
      for (uint32_t i = first; i < first + take; ++i) fn((int)i);
      ran += (int)take;
      if (done.fetch_add((int)take, std::memory_order_seq_cst) + (int)take == (int)nOf(c) && callerAsleep.load(std::memory_order_seq_cst)) {
        std::lock_guard<std::mutex> lk(mu);   // the caller checks `done` under the lock: no lost wake-up
        finished.notify_all();
      }
      c = counter.load(std::memory_order_acquire);
    }
  }

  void workerLoop() {
    uint32_t seen = generation.load(std::memory_order_acquire);
    for (;;) {
      const auto moved = [&] { return generation.load(std::memory_order_acquire) != seen || stopping.load(std::memory_order_acquire); };
      if (!pollFor(moved)) {
        std::unique_lock<std::mutex> lk(mu);
        sleepers.fetch_add(1, std::memory_order_seq_cst);
        wake.wait(lk, [&] { return generation.load(std::memory_order_seq_cst) != seen || stopping.load(); });
        sleepers.fetch_sub(1, std::memory_order_relaxed);
      }
      if (stopping.load(std::memory_order_acquire)) return;
      const uint32_t g = generation.load(std::memory_order_acquire);
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
    share = 2 * (uint32_t)(nworkers + 1);
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
    if (!pollFor([&] { return done.load(std::memory_order_acquire) == n; })) {
      std::unique_lock<std::mutex> lk(mu);
      callerAsleep.store(true, std::memory_order_seq_cst);
      finished.wait(lk, [&] { return done.load(std::memory_order_seq_cst) == n; });
      callerAsleep.store(false, std::memory_order_relaxed);
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
