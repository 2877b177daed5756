// The multithreaded apartment's threads: calls into MTA objects run here,
// never on the RPC server's network threads, so a method that blocks (on
// an outgoing call, a lock, a disk) holds up only itself.
//
// A thread that finishes work spins for up to kSpinMicros before it
// sleeps (see spinning_).
//
// Thread-safety: Post from any thread; the destructor runs what was
// posted, then joins.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace comsec::com {

class WorkerPool {
 public:
  explicit WorkerPool(size_t threads);
  ~WorkerPool();
  WorkerPool(const WorkerPool&) = delete;
  WorkerPool& operator=(const WorkerPool&) = delete;

  void Post(std::function<void()> work);

 private:
  void Run();

  std::mutex mu_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  // queue_'s size, read without mu_ by a spinning thread.
  std::atomic<size_t> queued_{0};
  // Threads spinning for work after finishing some: a call's caller
  // usually sends the next one within a round trip, and a thread that is
  // still awake takes it without the two context switches of a wake-up
  // (the COM call benchmark: 1.30x a raw DCE/RPC call without, 1.03x
  // with). Bounded, so an idle pool sleeps.
  std::atomic<int> spinning_{0};
  static constexpr int kSpinMicros = 60;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

}  // namespace comsec::com
