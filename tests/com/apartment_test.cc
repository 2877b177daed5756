// Apartments (issue 13): an STA runs its work on its one thread in the
// order it was posted, inline when called from that thread, re-entrantly
// while that thread waits for an outgoing call (ModalWait), and answers
// every piece of work at shutdown (run, or RPC_E_DISCONNECTED); the MTA
// runs work concurrently. Then the object exporter: an object exported
// into an STA gets every ORPC call on that STA's thread, one at a time,
// over TCP; an apartment that shut down answers RPC_E_DISCONNECTED and the
// server still serves.
#include "comsec/com/apartment.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "../base/captured_log.h"
#include "comsec/base/com_object.h"
#include "comsec/com/object_exporter.h"
#include "comsec/com/orpc_channel.h"
#include "comsec/rpc/server.h"
#include "exporter_test.h"

namespace comsec::com {
namespace {

using namespace std::chrono_literals;

// A deadlock must fail the test, not hang it: wait for `f` at most 20 s,
// and abort when it never comes (the threads involved cannot be joined).
template <class T>
T Within(std::future<T>& f, const char* what) {
  if (f.wait_for(20s) != std::future_status::ready) {
    ADD_FAILURE() << what << " did not finish within 20 s: deadlock";
    std::abort();
  }
  return f.get();
}

// Waits (at most 20 s) until `cond` holds.
template <class F>
bool Eventually(F cond) {
  for (int i = 0; i < 20000; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(1ms);
  }
  return cond();
}

// A gate work can wait behind, opened from the test.
class Gate {
 public:
  void Open() { opened_.set_value(); }
  void Wait() { future_.wait(); }

 private:
  std::promise<void> opened_;
  std::shared_future<void> future_ = opened_.get_future().share();
};

// ==== StaApartment

TEST(StaApartment, PostedWorkRunsOnItsThreadInOrder) {
  auto sta = StaApartment::WithOwnThread();
  EXPECT_EQ(sta->kind(), ApartmentKind::kSta);
  EXPECT_FALSE(sta->IsCurrentThread());
  EXPECT_NE(sta->thread_id(), std::this_thread::get_id());
  // Touched only on the STA's thread: no lock, and TSAN checks that claim.
  std::vector<int> order;
  std::vector<std::thread::id> threads;
  std::vector<bool> current;
  for (int i = 0; i < 1000; ++i) {
    EXPECT_TRUE(sta->Post([&, i] {
      order.push_back(i);
      threads.push_back(std::this_thread::get_id());
      current.push_back(sta->IsCurrentThread() && CurrentApartment() == sta.get());
    }));
  }
  ASSERT_TRUE(RunIn(*sta, [] {}).ok());  // behind all of them
  ASSERT_EQ(order.size(), 1000u);
  for (int i = 0; i < 1000; ++i) {
    EXPECT_EQ(order[i], i);
    EXPECT_EQ(threads[i], sta->thread_id());
    EXPECT_TRUE(current[i]);
  }
  EXPECT_EQ(CurrentApartment(), nullptr);  // this thread is in none
}

TEST(StaApartment, WorkFromManyThreadsRunsOneAtATimeInEachPostersOrder) {
  auto sta = StaApartment::WithOwnThread();
  constexpr int kPosters = 4, kEach = 500;
  std::atomic<int> inside{0};
  std::atomic<int> most_inside{0};
  std::vector<std::vector<int>> seen(kPosters);  // STA thread only
  std::atomic<int> wrong_thread{0};
  std::vector<std::thread> posters;
  for (int p = 0; p < kPosters; ++p) {
    posters.emplace_back([&, p] {
      for (int i = 0; i < kEach; ++i) {
        sta->Post([&, p, i] {
          int now = ++inside;
          int seen_most = most_inside.load();
          while (now > seen_most && !most_inside.compare_exchange_weak(seen_most, now)) {
          }
          if (std::this_thread::get_id() != sta->thread_id()) ++wrong_thread;
          seen[p].push_back(i);
          --inside;
        });
      }
    });
  }
  for (std::thread& t : posters) t.join();
  ASSERT_TRUE(RunIn(*sta, [] {}).ok());
  EXPECT_EQ(most_inside.load(), 1);
  EXPECT_EQ(wrong_thread.load(), 0);
  for (int p = 0; p < kPosters; ++p) {
    ASSERT_EQ(seen[p].size(), static_cast<size_t>(kEach));
    for (int i = 0; i < kEach; ++i) EXPECT_EQ(seen[p][i], i);
  }
}

TEST(StaApartment, ACallFromItsOwnThreadRunsInline) {
  auto sta = StaApartment::WithOwnThread();
  std::promise<std::vector<std::string>> result;
  auto f = result.get_future();
  std::vector<std::string> log;  // STA thread only
  sta->Post([&] {
    sta->Post([&] { log.push_back("queued"); });
    // Posting to itself would wait behind this very work forever; RunIn
    // runs it now, on this thread, before the work queued above.
    Status s = RunIn(*sta, [&] {
      log.push_back(std::this_thread::get_id() == sta->thread_id() ? "inline" : "elsewhere");
    });
    log.push_back(s.ok() ? "returned" : "failed");
    sta->Post([&] { result.set_value(log); });
  });
  EXPECT_EQ(Within(f, "the inline call"),
            (std::vector<std::string>{"inline", "returned", "queued"}));
}

TEST(StaApartment, TheCallersThreadBecomesTheStaAndPumpsIt) {
  auto done = std::async(std::launch::async, [] {
    auto sta = StaApartment::ForCurrentThread();
    EXPECT_TRUE(sta.ok()) << sta.status().ToString();
    if (!sta.ok()) return;
    StaApartment& a = **sta;
    EXPECT_EQ(CurrentApartment(), &a);
    EXPECT_TRUE(a.IsCurrentThread());
    EXPECT_EQ(a.thread_id(), std::this_thread::get_id());
    // Already in an apartment: COM's RPC_E_CHANGED_MODE.
    auto again = StaApartment::ForCurrentThread();
    ASSERT_FALSE(again.ok());
    EXPECT_EQ(again.status().code(), RPC_E_CHANGED_MODE);

    // Nothing runs until the thread pumps.
    std::vector<int> ran;
    std::thread poster([&] {
      for (int i = 0; i < 3; ++i) a.Post([&ran, i] { ran.push_back(i); });
    });
    poster.join();
    EXPECT_TRUE(ran.empty());
    EXPECT_EQ(a.pending(), 3u);
    EXPECT_EQ(a.RunPending(), 3u);
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2}));
    EXPECT_EQ(a.RunPending(), 0u);

    // The GetMessage loop: runs what other threads post until Quit.
    std::thread feeder([&] {
      for (int i = 3; i < 6; ++i) a.Post([&ran, i] { ran.push_back(i); });
      a.Quit();
      a.Post([&ran] { ran.push_back(99); });  // after the quit: stays queued
    });
    a.RunUntilQuit();
    feeder.join();
    EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4, 5}));
    EXPECT_EQ(a.pending(), 1u);

    // CoUninitialize: the queued work runs, then the thread is in no
    // apartment and later work is refused.
    a.Shutdown();
    EXPECT_EQ(ran.back(), 99);
    EXPECT_EQ(CurrentApartment(), nullptr);
    EXPECT_FALSE(a.IsCurrentThread());
    Status refused;
    a.PostOrRefuse([&](const Status& s) { refused = s; });
    EXPECT_EQ(refused.code(), RPC_E_DISCONNECTED);
  });
  Within(done, "the caller-thread STA");
}

// COM's callback into the client's STA: thread A (an STA) makes an outgoing
// call that thread B serves; B calls back into A's STA before answering. A
// waits in a ModalWait, which runs the callback on A's thread, so the call
// completes instead of deadlocking.
TEST(StaApartment, ACallbackDuringAPumpedWaitRunsOnTheWaitingSta) {
  auto done = std::async(std::launch::async, [] {
    auto sta = StaApartment::ForCurrentThread();
    EXPECT_TRUE(sta.ok());
    if (!sta.ok()) return std::string("no STA");
    StaApartment& a = **sta;
    std::string got;
    std::thread::id callback_thread;
    ModalWait wait;
    std::thread b([&a, &got, &callback_thread, complete = wait.Completer()] {
      // The server's side: call back into the client's STA and wait for it.
      Status s = RunIn(a, [&] {
        callback_thread = std::this_thread::get_id();
        got = "called back";
      });
      if (!s.ok()) got = s.ToString();
      complete();  // the outgoing call's reply
    });
    wait.Wait();
    b.join();
    EXPECT_EQ(callback_thread, std::this_thread::get_id());
    a.Shutdown();
    return got;
  });
  EXPECT_EQ(Within(done, "the call with a callback"), "called back");
}

// The same between two STAs with threads of their own, two levels deep:
// A calls B, B calls back A, A calls B again; each waits pumping.
TEST(StaApartment, NestedCallsBetweenTwoStasDoNotDeadlock) {
  auto a = StaApartment::WithOwnThread();
  auto b = StaApartment::WithOwnThread();
  std::vector<std::string> trail;  // each entry written on the thread named
  std::promise<Status> outer;
  auto f = outer.get_future();
  a->Post([&] {
    trail.push_back(a->IsCurrentThread() ? "A" : "?");
    Status s = RunIn(*b, [&] {
      trail.push_back(b->IsCurrentThread() ? "B" : "?");
      Status back = RunIn(*a, [&] {
        trail.push_back(a->IsCurrentThread() ? "A again" : "?");
        Status deeper = RunIn(*b, [&] { trail.push_back(b->IsCurrentThread() ? "B again" : "?"); });
        if (!deeper.ok()) trail.push_back(deeper.ToString());
      });
      if (!back.ok()) trail.push_back(back.ToString());
    });
    outer.set_value(s);
  });
  Status s = Within(f, "A -> B -> A -> B");
  EXPECT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(trail, (std::vector<std::string>{"A", "B", "A again", "B again"}));
}

TEST(StaApartment, ModalWaitOffAnStaJustBlocksAndItsCompleterMayOutliveIt) {
  std::function<void()> late;
  {
    ModalWait wait;
    late = wait.Completer();
    std::thread t([c = wait.Completer()] {
      std::this_thread::sleep_for(5ms);
      c();
    });
    wait.Wait();
    t.join();
  }
  late();  // the wait is gone; completing again does nothing harmful
}

// Shutdown answers everything: what was queued runs, what comes after is
// refused with RPC_E_DISCONNECTED on the posting thread, never run.
TEST(StaApartment, ShutdownRunsQueuedWorkAndRefusesLaterWork) {
  auto sta = StaApartment::WithOwnThread();
  Gate gate;
  sta->Post([&] { gate.Wait(); });  // holds the STA's thread
  std::atomic<int> ran{0};
  for (int i = 0; i < 100; ++i) sta->Post([&] { ++ran; });
  std::thread shutdown([&] { sta->Shutdown(); });
  // Until Shutdown closes the queue, work is still accepted (and will run).
  int posted = 100;
  int refusals = 0;  // refusal is synchronous, on this thread
  Status refusal;
  ASSERT_TRUE(Eventually([&] {
    ++posted;
    sta->PostOrRefuse([&ran, &refusals, &refusal](const Status& s) {
      if (s.ok()) {
        ++ran;
      } else {
        refusal = s;
        ++refusals;
      }
    });
    return refusals > 0;
  }));
  EXPECT_EQ(refusal.code(), RPC_E_DISCONNECTED) << refusal.ToString();
  EXPECT_FALSE(sta->Post([&] { ++ran; }));
  gate.Open();
  shutdown.join();
  EXPECT_EQ(refusals, 1);
  EXPECT_EQ(ran.load(), posted - refusals);  // every accepted one ran, no refused one did
  EXPECT_EQ(sta->pending(), 0u);
  sta->Shutdown();  // idempotent
}

// A caller-thread STA whose thread went away without shutting it down: the
// work queued for it is refused, on the thread that destroys it.
TEST(StaApartment, QueuedWorkOfAnStaWhoseThreadLeftIsRefused) {
  std::unique_ptr<StaApartment> orphan;
  std::thread([&] {
    auto sta = StaApartment::ForCurrentThread();
    ASSERT_TRUE(sta.ok());
    orphan = std::move(*sta);
  }).join();
  std::vector<HResult> answers;
  for (int i = 0; i < 3; ++i) {
    orphan->PostOrRefuse([&](const Status& s) { answers.push_back(s.code()); });
  }
  EXPECT_TRUE(answers.empty());
  orphan.reset();
  EXPECT_EQ(answers, std::vector<HResult>(3, RPC_E_DISCONNECTED));
}

// ==== MtaApartment

TEST(MtaApartment, RunsWorkConcurrentlyOnItsThreads) {
  constexpr int kThreads = 4;
  MtaApartment mta(kThreads);
  EXPECT_EQ(mta.kind(), ApartmentKind::kMta);
  EXPECT_FALSE(mta.IsCurrentThread());
  // Each work waits until all four are inside at once: only a pool that
  // runs them concurrently gets there.
  std::mutex mu;
  std::condition_variable cv;
  int inside = 0;
  std::atomic<int> met{0}, in_mta{0};
  for (int i = 0; i < kThreads; ++i) {
    mta.Post([&] {
      if (mta.IsCurrentThread() && CurrentApartment() == &mta) ++in_mta;
      std::unique_lock<std::mutex> lock(mu);
      ++inside;
      cv.notify_all();
      if (cv.wait_for(lock, 20s, [&] { return inside == kThreads; })) ++met;
    });
  }
  mta.Shutdown();  // runs what was queued, joins
  EXPECT_EQ(met.load(), kThreads);
  EXPECT_EQ(in_mta.load(), kThreads);
  Status refused;
  mta.PostOrRefuse([&](const Status& s) { refused = s; });
  EXPECT_EQ(refused.code(), RPC_E_DISCONNECTED);
}

TEST(MtaApartment, AThreadEntersItAndCallsInline) {
  MtaApartment mta(2);
  EXPECT_EQ(CurrentApartment(), nullptr);
  {
    ApartmentScope in_mta(mta);  // CoInitializeEx(COINIT_MULTITHREADED)
    EXPECT_TRUE(mta.IsCurrentThread());
    std::thread::id ran_on;
    ASSERT_TRUE(RunIn(mta, [&] { ran_on = std::this_thread::get_id(); }).ok());
    EXPECT_EQ(ran_on, std::this_thread::get_id());
    // An MTA thread may not become an STA's.
    auto sta = StaApartment::ForCurrentThread();
    ASSERT_FALSE(sta.ok());
    EXPECT_EQ(sta.status().code(), RPC_E_CHANGED_MODE);
  }
  EXPECT_EQ(CurrentApartment(), nullptr);
  // From outside, RunIn posts and waits: the work runs on a pool thread.
  std::thread::id ran_on;
  ASSERT_TRUE(RunIn(mta, [&] { ran_on = std::this_thread::get_id(); }).ok());
  EXPECT_NE(ran_on, std::this_thread::get_id());
}

// ==== The object exporter dispatching into apartments

using idl::ICounter;

// Records the thread of every call and how many ran at once.
class ThreadCounter final : public ComObject<ICounter> {
 public:
  explicit ThreadCounter(Gate* gate = nullptr) : gate_(gate) {}
  Result<idl::HRESULT> Add(int32_t n, int32_t& total) override {
    int now = ++inside_;
    int most = most_inside_.load();
    while (now > most && !most_inside_.compare_exchange_weak(most, now)) {
    }
    if (gate_ != nullptr) gate_->Wait();
    {
      std::lock_guard<std::mutex> lock(mu_);
      threads_.push_back(std::this_thread::get_id());
      total_ += n;
      total = total_;
    }
    --inside_;
    return 0;
  }
  Result<idl::HRESULT> Misbehave(int32_t) override { return 0; }

  std::vector<std::thread::id> threads() const {
    std::lock_guard<std::mutex> lock(mu_);
    return threads_;
  }
  int most_inside() const { return most_inside_.load(); }

 private:
  Gate* const gate_;
  std::atomic<int> inside_{0}, most_inside_{0};
  mutable std::mutex mu_;
  std::vector<std::thread::id> threads_;
  int32_t total_ = 0;
};

class Identity final : public ComObject<idl::ICounter> {
 public:
  Result<idl::HRESULT> Add(int32_t, int32_t&) override { return 0; }
  Result<idl::HRESULT> Misbehave(int32_t) override { return 0; }
};

class ExporterApartmentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ObjectExporterOptions options;
    options.logger = log_.logger();
    exporter_ = std::make_unique<ObjectExporter>(options);
    exporter_->Attach(registry_);
    server_ = std::make_unique<rpc::Server>(&registry_, rpc::ServerOptions{});
    auto tcp = server_->Listen(*rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[0]"));
    ASSERT_TRUE(tcp.ok()) << tcp.status().ToString();
    tcp_ = *tcp;
  }
  void TearDown() override {
    server_->Stop();
    exporter_->DisconnectApartment(sta_.get());
    sta_.reset();
    exporter_.reset();
  }

  std::unique_ptr<OrpcChannel> Channel(const Guid& ipid) {
    auto c = rpc::Client::Connect(tcp_);
    EXPECT_TRUE(c.ok()) << c.status().ToString();
    Status s = (*c)->Bind(rpc::SyntaxId{idl::IID_ICounter, 0, 0});
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::make_unique<OrpcChannel>(std::move(*c), ipid, identity_.get());
  }

  CapturedLog log_;
  rpc::InterfaceRegistry registry_;
  std::unique_ptr<ObjectExporter> exporter_;
  std::unique_ptr<rpc::Server> server_;
  rpc::StringBinding tcp_;
  std::unique_ptr<StaApartment> sta_ = StaApartment::WithOwnThread();
  ComPtr<Identity> identity_ = MakeComObject<Identity>();
};

TEST_F(ExporterApartmentTest, AnStaObjectGetsEveryCallOnTheStaThreadOneAtATime) {
  ComPtr<ThreadCounter> counter = MakeComObject<ThreadCounter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1, sta_.get());
  ASSERT_TRUE(exported.ok()) << exported.status().ToString();
  // Three clients at once, each on its own association (so the server's
  // network threads hand calls over concurrently).
  constexpr int kClients = 3, kCalls = 40;
  std::vector<std::thread> clients;
  std::atomic<int> failed{0};
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&] {
      auto channel = Channel(exported->ipid);
      idl::ICounterProxy proxy(channel.get());
      for (int i = 0; i < kCalls; ++i) {
        int32_t total = 0;
        auto r = proxy.Add(1, total);
        if (!r.ok() || *r != 0) ++failed;
      }
    });
  }
  for (std::thread& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  auto threads = counter->threads();
  ASSERT_EQ(threads.size(), static_cast<size_t>(kClients * kCalls));
  for (const auto& id : threads) EXPECT_EQ(id, sta_->thread_id());
  EXPECT_EQ(counter->most_inside(), 1);

  // An MTA object of the same exporter stays off the STA's thread, and
  // IRemUnknown (its IPID) serves as before.
  ComPtr<ThreadCounter> mta_counter = MakeComObject<ThreadCounter>();
  auto in_mta = exporter_->Export(mta_counter->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(in_mta.ok());
  auto channel = Channel(in_mta->ipid);
  idl::ICounterProxy proxy(channel.get());
  int32_t total = 0;
  ASSERT_TRUE(proxy.Add(2, total).ok());
  ASSERT_EQ(mta_counter->threads().size(), 1u);
  EXPECT_NE(mta_counter->threads()[0], sta_->thread_id());
}

TEST_F(ExporterApartmentTest, AnObjectLivesInOneApartment) {
  ComPtr<ThreadCounter> counter = MakeComObject<ThreadCounter>();
  ASSERT_TRUE(exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1, sta_.get()).ok());
  auto elsewhere =
      exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1, &exporter_->mta());
  ASSERT_FALSE(elsewhere.ok());
  EXPECT_EQ(elsewhere.status().code(), RPC_E_WRONG_THREAD);
  // Without an apartment named, it stays where it lives.
  ASSERT_TRUE(exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1).ok());
}

// The STA shut down (CoUninitialize) while its object is still exported:
// calls to it are refused with RPC_E_DISCONNECTED, logged, and the server
// serves on.
TEST_F(ExporterApartmentTest, ACallIntoAnStaThatShutDownIsRpcEDisconnected) {
  ComPtr<ThreadCounter> counter = MakeComObject<ThreadCounter>();
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1, sta_.get());
  ASSERT_TRUE(exported.ok());
  auto channel = Channel(exported->ipid);
  idl::ICounterProxy proxy(channel.get());
  int32_t total = 0;
  ASSERT_TRUE(proxy.Add(1, total).ok());
  sta_->Shutdown();
  auto r = proxy.Add(1, total);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), RPC_E_DISCONNECTED) << r.status().ToString();
  auto refused = log_.Named("com.call_refused");
  ASSERT_EQ(refused.size(), 1u);
  EXPECT_EQ(refused[0].hresult, RPC_E_DISCONNECTED);
  EXPECT_EQ(counter->threads().size(), 1u);  // the refused call never ran
  // Still serving: an MTA object answers on the same association's server.
  ComPtr<ThreadCounter> other = MakeComObject<ThreadCounter>();
  auto second = exporter_->Export(other->unknown(), idl::ICounterInfo(), 1);
  auto fresh = Channel(second->ipid);
  idl::ICounterProxy fresh_proxy(fresh.get());
  ASSERT_TRUE(fresh_proxy.Add(5, total).ok());
  EXPECT_EQ(total, 5);
}

// CoUninitialize with a call queued: the apartment's objects are
// disconnected, then the queue drains; the queued call answers
// RPC_E_DISCONNECTED instead of running, and nothing is left waiting.
TEST_F(ExporterApartmentTest, ACallQueuedWhenTheStaShutsDownIsAnswered) {
  Gate gate;
  ComPtr<ThreadCounter> counter = MakeComObject<ThreadCounter>(&gate);
  auto exported = exporter_->Export(counter->unknown(), idl::ICounterInfo(), 1, sta_.get());
  ASSERT_TRUE(exported.ok());
  auto first_channel = Channel(exported->ipid);
  auto second_channel = Channel(exported->ipid);
  auto first = std::async(std::launch::async, [&] {
    idl::ICounterProxy proxy(first_channel.get());
    int32_t total = 0;
    return proxy.Add(1, total).status();
  });
  // The first call holds the STA's thread at the gate...
    ASSERT_TRUE(Eventually([&] { return counter->most_inside() == 1; }));
  auto second = std::async(std::launch::async, [&] {
    idl::ICounterProxy proxy(second_channel.get());
    int32_t total = 0;
    return proxy.Add(1, total).status();
  });
  // ...and the second waits in its queue.
  ASSERT_TRUE(Eventually([&] { return sta_->pending() == 1; }));
  exporter_->DisconnectApartment(sta_.get());
  EXPECT_EQ(exporter_->exported_interfaces(), 0u);
  std::thread shutdown([&] { sta_->Shutdown(); });
  gate.Open();
  shutdown.join();
  Status s1 = Within(first, "the running call");
  Status s2 = Within(second, "the queued call");
  EXPECT_TRUE(s1.ok()) << s1.ToString();  // it was running: it finishes
  EXPECT_EQ(s2.code(), RPC_E_DISCONNECTED) << s2.ToString();
  EXPECT_EQ(counter->threads().size(), 1u);
}

// COM's callback into the client's STA, over the wire: a thread of an STA
// calls object X (MTA) through a proxy; X's method calls object Y, which
// lives in that same STA, through a proxy of its own. The STA's outgoing
// call is made the way the COM channel will make it from an STA — the
// blocking RPC handed to the MTA with RunIn, the STA pumping meanwhile — so
// Y's call is dispatched on the STA's thread and everything completes.
class Forwarder final : public ComObject<ICounter> {
 public:
  explicit Forwarder(std::unique_ptr<OrpcChannel> to) : to_(std::move(to)) {}
  Result<idl::HRESULT> Add(int32_t n, int32_t& total) override {
    idl::ICounterProxy proxy(to_.get());
    auto r = proxy.Add(n, total);
    if (!r.ok()) return r.status();
    return *r;
  }
  Result<idl::HRESULT> Misbehave(int32_t) override { return 0; }

 private:
  std::unique_ptr<OrpcChannel> to_;
};

TEST_F(ExporterApartmentTest, ACallbackIntoTheCallersStaOverTcpCompletes) {
  ComPtr<ThreadCounter> y = MakeComObject<ThreadCounter>();
  auto in_sta = exporter_->Export(y->unknown(), idl::ICounterInfo(), 1, sta_.get());
  ASSERT_TRUE(in_sta.ok());
  ComPtr<Forwarder> x = MakeComObject<Forwarder>(Channel(in_sta->ipid));
  auto in_mta = exporter_->Export(x->unknown(), idl::ICounterInfo(), 1);
  ASSERT_TRUE(in_mta.ok());
  auto to_x = Channel(in_mta->ipid);
  std::promise<Result<idl::HRESULT>> answer;
  auto f = answer.get_future();
  int32_t total = 0;
  sta_->Post([&] {
    idl::ICounterProxy proxy(to_x.get());
    Result<idl::HRESULT> r = Status(E_UNEXPECTED, "not called");
    Status s = RunIn(exporter_->mta(), [&] { r = proxy.Add(7, total); });
    answer.set_value(s.ok() ? std::move(r) : Result<idl::HRESULT>(s));
  });
  auto r = Within(f, "the call with a callback into the caller's STA");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, 0);
  EXPECT_EQ(total, 7);
  ASSERT_EQ(y->threads().size(), 1u);
  EXPECT_EQ(y->threads()[0], sta_->thread_id());
}

}  // namespace
}  // namespace comsec::com
