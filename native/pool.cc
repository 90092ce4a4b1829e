// Thread pool: workers sleep on a condition variable between jobs; tasks are handed out with
// an atomic counter so the calling thread works too; the caller sleeps until the last task ends.
#include "pool.h"

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace fmn {
namespace {

struct Pool {
  std::mutex mu;
  std::condition_variable wake;      // workers wait here for a new generation
  std::condition_variable finished;  // the caller waits here for the last task
  std::vector<std::thread> workers;
  const std::function<void(int)>* job = nullptr;
  int ntasks = 0;
  std::atomic<int> next{0};
  int done = 0;
  long generation = 0;
  bool stopping = false;

  // Grab tasks until none is left; returns how many this thread ran.
  int drain() {
    int ran = 0;
    for (int i; (i = next.fetch_add(1)) < ntasks; ++ran) (*job)(i);
    return ran;
  }

  void workerLoop() {
    long seen = 0;
    for (;;) {
      {
        std::unique_lock<std::mutex> lk(mu);
        wake.wait(lk, [&] { return stopping || generation != seen; });
        if (stopping) return;
        seen = generation;
      }
      int ran = drain();
      std::lock_guard<std::mutex> lk(mu);
      done += ran;
      if (done == ntasks) finished.notify_one();
    }
  }

  void resize(int nworkers) {
    {
      std::lock_guard<std::mutex> lk(mu);
      stopping = true;
    }
    wake.notify_all();
    for (auto& t : workers) t.join();
    workers.clear();
    stopping = false;
    for (int i = 0; i < nworkers; ++i) workers.emplace_back([this] { workerLoop(); });
  }

  void run(int n, const std::function<void(int)>& fn) {
    if (n <= 0) return;
    if (n == 1 || workers.empty()) {
      for (int i = 0; i < n; ++i) fn(i);
      return;
    }
    {
      std::lock_guard<std::mutex> lk(mu);
      job = &fn;
      ntasks = n;
      next.store(0);
      done = 0;
      ++generation;
    }
    wake.notify_all();
    int ran = drain();
    std::unique_lock<std::mutex> lk(mu);
    done += ran;
    finished.wait(lk, [&] { return done == ntasks; });
    job = nullptr;
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
