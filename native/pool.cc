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
  std::condition_variable finished;  // the caller waits here for the job to end
  std::vector<std::thread> workers;
  const std::function<void(int)>* job = nullptr;  // null between jobs
  int ntasks = 0;
  std::atomic<int> next{0};
  int done = 0;     // tasks of this generation that have run
  int active = 0;   // workers between joining a generation and reporting back
  long generation = 0;
  bool stopping = false;

  // Grab tasks of one job until none is left; returns how many this thread ran.
  int drain(const std::function<void(int)>& fn, int n) {
    int ran = 0;
    for (int i; (i = next.fetch_add(1)) < n; ++ran) fn(i);
    return ran;
  }

  // A worker copies the job and task count under the lock when it joins a generation and is
  // counted active until it reports back, so it never reads another job's counter: run()
  // resets the counter only when no worker is active. (Reading them unlocked let a worker
  // preempted between fetch_add and the bound check run a task of the next job twice, and the
  // caller then waited forever for a count it had overshot.)
  void workerLoop() {
    long seen = 0;
    std::unique_lock<std::mutex> lk(mu);
    for (;;) {
      wake.wait(lk, [&] { return stopping || generation != seen; });
      if (stopping) return;
      seen = generation;
      const std::function<void(int)>* fn = job;
      const int n = ntasks;
      ++active;
      lk.unlock();
      const int ran = fn != nullptr ? drain(*fn, n) : 0;
      lk.lock();
      done += ran;
      --active;
      if (active == 0) finished.notify_all();
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
    std::unique_lock<std::mutex> lk(mu);
    // a worker that woke late for the previous generation may still be draining its counter
    finished.wait(lk, [&] { return active == 0; });
    job = &fn;
    ntasks = n;
    next.store(0);
    done = 0;
    ++generation;
    lk.unlock();
    wake.notify_all();
    const int ran = drain(fn, n);
    lk.lock();
    done += ran;
    finished.wait(lk, [&] { return done == ntasks && active == 0; });
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
