// Apartments: COM's threading model ("Processes, Threads, and Apartments",
// "Single-Threaded Apartments", "Multithreaded Apartments" in the COM
// documentation). Every object lives in one apartment and every call into
// it runs there:
//   * the multithreaded apartment (MTA, MtaApartment) is a pool of threads
//     plus any thread that entered it (ApartmentScope, what
//     CoInitializeEx(COINIT_MULTITHREADED) will do); its calls run
//     concurrently, in no particular order;
//   * a single-threaded apartment (STA, StaApartment) is one thread with a
//     FIFO queue: calls posted from anywhere run on that thread, one at a
//     time, in the order they were posted. The thread is either the caller's
//     (StaApartment::ForCurrentThread, what
//     CoInitializeEx(COINIT_APARTMENTTHREADED) will do; that thread pumps the
//     queue with RunPending/RunUntilQuit, its message loop) or one the
//     apartment owns (StaApartment::WithOwnThread).
//
// Re-entrancy as COM does it: while an STA's thread waits for an outgoing
// call (ModalWait, the COM channel's wait around its blocking RPC), work
// posted to that STA keeps running on it, so a callback into the STA from the
// object it is calling completes instead of deadlocking. A call into an
// apartment from one of its own threads runs inline (RunIn).
//
// Shutdown (CoUninitialize's part, see Shutdown below): the apartment stops
// accepting work, then runs what was already queued; work posted afterwards
// is refused with RPC_E_DISCONNECTED — never dropped silently, never left
// waiting. Why RPC_E_DISCONNECTED and not CO_E_NOTINITIALIZED: the latter is
// what a *calling* thread gets from COM APIs when it is in no apartment; a
// call that reached an apartment which has gone finds its objects
// disconnected (CoUninitialize disconnects every object of the apartment as
// CoDisconnectObject does), and COM answers such calls with
// RPC_E_DISCONNECTED, as the exporter does for a disconnected IPID.
//
// Thread-safety: Post/PostOrRefuse from any thread; the rest as each method
// says. Work must not throw (the exporter catches what methods throw).
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "comsec/base/result.h"
#include "comsec/base/status.h"

namespace comsec::com {

class WorkerPool;

enum class ApartmentKind { kMta, kSta };

// Work for an apartment, called exactly once: with an OK status on one of
// the apartment's threads, or — when the apartment has shut down and will
// never run it — with RPC_E_DISCONNECTED, right away on the posting thread,
// without entering the apartment (then it must only answer and clean up).
using ApartmentWork = std::function<void(const Status& status)>;

class Apartment {
 public:
  virtual ~Apartment() = default;
  Apartment(const Apartment&) = delete;
  Apartment& operator=(const Apartment&) = delete;

  virtual ApartmentKind kind() const = 0;

  // Queues `work` (never runs it inline, even from the apartment's own
  // thread: use RunIn for a call that must not wait behind the queue).
  virtual void PostOrRefuse(ApartmentWork work) = 0;

  // PostOrRefuse for work with nothing to answer: when refused, `work` is
  // destroyed unrun (what it captured is released; an rpc::CallResponder
  // among it answers RPC_E_SERVERFAULT). Returns false then.
  bool Post(std::function<void()> work);

  // Whether the calling thread is in this apartment: the STA's thread, or a
  // thread of the MTA (its pool's, or one inside an ApartmentScope for it).
  virtual bool IsCurrentThread() const = 0;

 protected:
  Apartment() = default;
};

// The apartment the calling thread is in; null when it is in none (COM
// would answer CO_E_NOTINITIALIZED to such a thread's calls).
Apartment* CurrentApartment();

class MtaApartment;

// Puts the calling thread into the MTA for its lifetime (what
// CoInitializeEx(COINIT_MULTITHREADED) will do; CoUninitialize ends it) and
// restores the thread's previous apartment after. A thread already in an
// STA must not enter the MTA (COM: RPC_E_CHANGED_MODE); the caller checks.
// REQUIRES: `mta` outlives the scope; the scope lives on one thread.
class ApartmentScope {
 public:
  explicit ApartmentScope(MtaApartment& mta);
  ~ApartmentScope();
  ApartmentScope(const ApartmentScope&) = delete;
  ApartmentScope& operator=(const ApartmentScope&) = delete;

 private:
  Apartment* previous_;
};

// The MTA: a pool of threads. Calls run concurrently on any of them.
//
// Thread-safety: every method from any thread, except as noted.
class MtaApartment final : public Apartment {
 public:
  // `threads` pool threads (at least one).
  explicit MtaApartment(size_t threads);
  // Shutdown().
  ~MtaApartment() override;

  ApartmentKind kind() const override { return ApartmentKind::kMta; }
  void PostOrRefuse(ApartmentWork work) override;
  bool IsCurrentThread() const override;

  // Refuses new work (RPC_E_DISCONNECTED; also work that running work
  // posts), runs what was queued, joins the pool. Idempotent.
  // REQUIRES: not called on one of the pool's threads.
  void Shutdown();

 private:
  mutable std::mutex mu_;
  bool closed_ = false;               // guarded by mu_
  std::unique_ptr<WorkerPool> pool_;  // guarded by mu_ until Shutdown moves it out
};

class ModalWait;

// An STA: one thread, one FIFO queue.
//
// Thread-safety: PostOrRefuse, Post, Quit and IsCurrentThread from any
// thread; RunPending and RunUntilQuit only on the STA's thread; Shutdown and
// the destructor as they say.
class StaApartment final : public Apartment {
 public:
  // Makes the calling thread an STA's thread, the way
  // CoInitializeEx(COINIT_APARTMENTTHREADED) does: CurrentApartment() is the
  // result on this thread until Shutdown. Nothing runs until the thread pumps
  // (RunPending, RunUntilQuit, or a ModalWait). RPC_E_CHANGED_MODE when the
  // thread is already in an apartment (the CoInitializeEx layer above counts
  // repeated initializations of the same mode itself).
  static Result<std::unique_ptr<StaApartment>> ForCurrentThread();
  // An STA with a thread of its own, which pumps until Shutdown.
  static std::unique_ptr<StaApartment> WithOwnThread();

  // Shutdown().
  ~StaApartment() override;

  ApartmentKind kind() const override { return ApartmentKind::kSta; }
  void PostOrRefuse(ApartmentWork work) override;
  bool IsCurrentThread() const override;
  // The STA's thread.
  std::thread::id thread_id() const { return thread_id_; }

  // The message loop of a caller-thread STA (PeekMessage/DispatchMessage):
  // runs the work queued when it is called, in order, and returns how much
  // ran. REQUIRES: on the STA's thread.
  size_t RunPending();
  // GetMessage/DispatchMessage until Quit(): runs work as it arrives, and
  // returns once the Quit posted after it has been reached in the queue (or
  // the apartment has shut down and its queue is empty).
  // REQUIRES: on the STA's thread.
  void RunUntilQuit();
  // PostQuitMessage: queued behind what is already posted.
  void Quit();

  // CoUninitialize's part: refuses new work from now on (RPC_E_DISCONNECTED),
  // then runs what was already queued on the STA's thread: an own-thread STA
  // drains and its thread is joined; a caller-thread STA drains inline and
  // its thread leaves it (CurrentApartment() becomes null). Idempotent.
  // Disconnect the apartment's objects first (ObjectExporter::
  // DisconnectApartment) so that queued calls to them answer
  // RPC_E_DISCONNECTED rather than running.
  // REQUIRES: an own-thread STA is not shut down from its own thread; a
  // caller-thread STA is shut down on its thread, or on another one only once
  // its thread no longer pumps it — then what is queued is refused
  // (RPC_E_DISCONNECTED) on the calling thread, as there is no thread left to
  // run it.
  void Shutdown();

  // Work queued and not yet started, for tests.
  size_t pending() const;

 private:
  friend class ModalWait;
  StaApartment() = default;

  // Runs queued work on the STA's thread until `stop()` (evaluated under
  // mu_) holds; blocks while the queue is empty and stop() does not hold.
  void PumpUntil(const std::function<bool()>& stop);
  // ModalWait::Complete for a wait pumping this STA: sets *done under mu_.
  void CompleteWait(bool* done);

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<ApartmentWork> queue_;  // guarded by mu_
  bool closed_ = false;              // guarded by mu_
  bool quit_ = false;                // guarded by mu_
  bool own_thread_ = false;          // const after construction
  std::thread::id thread_id_;        // const after construction
  std::thread thread_;               // own-thread STAs only
};

// The wait of an outgoing call, as the COM channel will use it around its
// blocking RPC:
//   ModalWait wait;                                      // on the calling thread
//   client->CallAsync(..., [&reply, c = wait.Completer()](auto r) { reply = r; c(); });
//   wait.Wait();
// On an STA's thread, Wait runs work posted to that STA meanwhile (COM's
// modal loop: calls into the STA while it waits are dispatched, so a
// callback into it from the callee completes) and returns as soon as the
// wait is complete; elsewhere it just blocks.
//
// Thread-safety: construct and Wait on one thread; Complete (or a
// Completer) from any thread, any number of times (the first counts). The
// ModalWait may be destroyed as soon as Wait returns, even while the
// completing thread is still inside Complete.
class ModalWait {
 public:
  // Binds to the calling thread's STA, if it is in one.
  ModalWait();
  ~ModalWait();
  ModalWait(const ModalWait&) = delete;
  ModalWait& operator=(const ModalWait&) = delete;

  void Complete();
  // A callable that completes this wait; it may outlive the ModalWait.
  std::function<void()> Completer() const;
  // REQUIRES: on the constructing thread.
  void Wait();

 private:
  struct State;
  static void CompleteState(const std::shared_ptr<State>& state);
  std::shared_ptr<State> state_;
};

// Runs `fn` in `apartment` and returns when it has run: inline when the
// calling thread is in that apartment (a call into an STA from its own
// thread must not queue behind itself, or it would deadlock); otherwise
// posted, with the caller waiting in a ModalWait (so a caller that is an STA
// keeps serving calls into it meanwhile). RPC_E_DISCONNECTED, without
// running `fn`, when the apartment has shut down.
Status RunIn(Apartment& apartment, const std::function<void()>& fn);

}  // namespace comsec::com
