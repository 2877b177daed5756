#include "comsec/com/apartment.h"

#include <utility>

#include "comsec/base/check.h"
#include "comsec/com/worker_pool.h"

namespace comsec::com {
namespace {

// The calling thread's apartment. Written only by the thread itself.
thread_local Apartment* current_apartment = nullptr;

Status Gone() {
  return Status(RPC_E_DISCONNECTED,
                "the apartment has shut down (CoUninitialize): its objects are disconnected");
}

}  // namespace

Apartment* CurrentApartment() { return current_apartment; }

bool Apartment::Post(std::function<void()> work) {
  // Refusal happens synchronously on this thread (ApartmentWork's
  // contract), so `refused` is read after the call without a race.
  bool refused = false;
  PostOrRefuse([&refused, w = std::move(work)](const Status& status) {
    if (status.ok()) {
      w();
    } else {
      refused = true;
    }
  });
  return !refused;
}

ApartmentScope::ApartmentScope(MtaApartment& mta) : previous_(current_apartment) {
  current_apartment = &mta;
}

ApartmentScope::~ApartmentScope() { current_apartment = previous_; }

// ==== MtaApartment
// Invariant: pool_ is non-null exactly while closed_ is false, and work is
// handed to the pool only under mu_, so nothing reaches a pool that is
// being destroyed.

MtaApartment::MtaApartment(size_t threads) : pool_(std::make_unique<WorkerPool>(threads)) {}

MtaApartment::~MtaApartment() { Shutdown(); }

void MtaApartment::PostOrRefuse(ApartmentWork work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      pool_->Post([this, w = std::move(work)]() {
        // The pool's threads are the MTA's: a call they make into an MTA
        // object runs inline (RunIn), as COM calls it directly.
        current_apartment = this;
        w(Status::Ok());
      });
      return;
    }
  }
  work(Gone());
}

bool MtaApartment::IsCurrentThread() const { return current_apartment == this; }

void MtaApartment::Shutdown() {
  COMSEC_CHECK(current_apartment != this,
               "the MTA cannot be shut down from one of its threads: it would join itself");
  std::unique_ptr<WorkerPool> pool;
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    pool = std::move(pool_);
  }
  pool.reset();  // runs what was queued, then joins
}

// ==== StaApartment
// Invariant: queued work runs only on thread_id_, one item at a time, in the
// order it was queued; nothing is queued once closed_ is set, and every item
// queued before is either run (by the STA's thread) or refused (by
// Shutdown, when the STA's thread no longer pumps).

Result<std::unique_ptr<StaApartment>> StaApartment::ForCurrentThread() {
  if (current_apartment != nullptr) {
    return Status(RPC_E_CHANGED_MODE, "the thread is already in an apartment");
  }
  std::unique_ptr<StaApartment> sta(new StaApartment());
  sta->thread_id_ = std::this_thread::get_id();
  current_apartment = sta.get();
  return sta;
}

std::unique_ptr<StaApartment> StaApartment::WithOwnThread() {
  std::unique_ptr<StaApartment> sta(new StaApartment());
  sta->own_thread_ = true;
  StaApartment* self = sta.get();
  // The thread reads nothing thread_id_ or thread_ hold; they are written
  // here, before anyone else can see the apartment.
  sta->thread_ = std::thread([self] {
    current_apartment = self;
    self->PumpUntil([self] { return self->closed_ && self->queue_.empty(); });
    current_apartment = nullptr;
  });
  sta->thread_id_ = sta->thread_.get_id();
  return sta;
}

StaApartment::~StaApartment() { Shutdown(); }

void StaApartment::PostOrRefuse(ApartmentWork work) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!closed_) {
      queue_.push_back(std::move(work));
      cv_.notify_all();
      return;
    }
  }
  work(Gone());
}

bool StaApartment::IsCurrentThread() const {
  return std::this_thread::get_id() == thread_id_ && current_apartment == this;
}

size_t StaApartment::pending() const {
  std::lock_guard<std::mutex> lock(mu_);
  return queue_.size();
}

void StaApartment::PumpUntil(const std::function<bool()>& stop) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    if (stop()) return;
    if (queue_.empty()) {
      cv_.wait(lock);
      continue;
    }
    ApartmentWork work = std::move(queue_.front());
    queue_.pop_front();
    lock.unlock();
    work(Status::Ok());
    work = nullptr;  // what it captured goes before the lock is retaken
    lock.lock();
  }
}

size_t StaApartment::RunPending() {
  COMSEC_CHECK(IsCurrentThread(), "RunPending is the STA's own thread's message loop");
  size_t left = pending();
  size_t ran = 0;
  // Only what was queued on entry: work that posts more work cannot keep
  // this loop from returning.
  PumpUntil([&] {
    if (ran == left || queue_.empty()) return true;
    ++ran;
    return false;
  });
  return ran;
}

void StaApartment::RunUntilQuit() {
  COMSEC_CHECK(IsCurrentThread(), "RunUntilQuit is the STA's own thread's message loop");
  PumpUntil([this] { return quit_ || (closed_ && queue_.empty()); });
  std::lock_guard<std::mutex> lock(mu_);
  quit_ = false;
}

void StaApartment::Quit() {
  // The flag is set under mu_ by the STA's thread when it reaches this work,
  // so RunUntilQuit's stop condition sees it on its next check.
  PostOrRefuse([this](const Status& status) {
    if (!status.ok()) return;  // shut down: RunUntilQuit returns anyway
    std::lock_guard<std::mutex> lock(mu_);
    quit_ = true;
  });
}

void StaApartment::CompleteWait(bool* done) {
  std::lock_guard<std::mutex> lock(mu_);
  *done = true;
  cv_.notify_all();
}

void StaApartment::Shutdown() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    cv_.notify_all();
  }
  if (own_thread_) {
    COMSEC_CHECK(std::this_thread::get_id() != thread_id_,
                 "an STA with its own thread cannot be shut down from that thread");
    if (thread_.joinable()) thread_.join();  // it drains the queue, then exits
    return;
  }
  if (std::this_thread::get_id() == thread_id_) {
    PumpUntil([this] { return queue_.empty(); });
    if (current_apartment == this) current_apartment = nullptr;
    return;
  }
  // A caller-thread STA whose thread is gone: nobody can run the work, so
  // it is answered here.
  std::deque<ApartmentWork> orphans;
  {
    std::lock_guard<std::mutex> lock(mu_);
    orphans.swap(queue_);
  }
  for (ApartmentWork& work : orphans) work(Gone());
}

// ==== ModalWait
// Invariant: `done` is written and read under the mutex of whoever waits:
// the STA's mu_ when the waiting thread pumps an STA, else State::mu. The
// completing side touches nothing of the ModalWait itself (only the shared
// State, and the STA, which outlives a wait on its own thread).

struct ModalWait::State {
  StaApartment* sta = nullptr;
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
};

ModalWait::ModalWait() : state_(std::make_shared<State>()) {
  Apartment* a = current_apartment;
  if (a != nullptr && a->kind() == ApartmentKind::kSta) {
    state_->sta = static_cast<StaApartment*>(a);
  }
}

ModalWait::~ModalWait() = default;

void ModalWait::CompleteState(const std::shared_ptr<State>& state) {
  if (state->sta != nullptr) {
    state->sta->CompleteWait(&state->done);
    return;
  }
  std::lock_guard<std::mutex> lock(state->mu);
  state->done = true;
  state->cv.notify_all();
}

void ModalWait::Complete() {
  std::shared_ptr<State> state = state_;  // before `this` may go
  CompleteState(state);
}

std::function<void()> ModalWait::Completer() const {
  return [state = state_] { CompleteState(state); };
}

void ModalWait::Wait() {
  State& s = *state_;
  if (s.sta != nullptr) {
    COMSEC_CHECK(s.sta->IsCurrentThread(), "a ModalWait is waited for on its own thread");
    s.sta->PumpUntil([&s] { return s.done; });
    return;
  }
  std::unique_lock<std::mutex> lock(s.mu);
  s.cv.wait(lock, [&s] { return s.done; });
}

Status RunIn(Apartment& apartment, const std::function<void()>& fn) {
  if (apartment.IsCurrentThread()) {
    fn();
    return Status::Ok();
  }
  ModalWait wait;
  Status result;
  apartment.PostOrRefuse([&fn, &result, done = wait.Completer()](const Status& status) {
    if (status.ok()) fn();
    result = status;
    done();
  });
  wait.Wait();
  return result;
}

}  // namespace comsec::com
