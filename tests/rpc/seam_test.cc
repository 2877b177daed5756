// The call seam (interface.h) at the ServerConnection, without sockets:
// an asynchronous handler answering later from another thread (the wake
// callback, then TakeAnswers), what a call's CallContext carries (object
// UUID, interface, opnum, data representation), handlers that throw
// (RPC_E_SERVERFAULT, and the connection keeps serving), responders
// dropped unanswered, answers after the connection is gone, and many calls
// answered at once from many threads on a multiplexed association.
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <new>
#include <stdexcept>
#include <thread>

#include "comsec/base/byte_writer.h"
#include "comsec/rpc/server_connection.h"

namespace comsec::rpc {
namespace {

using security::AuthnLevel;

// The registration is v1.2; clients bind to v1.1 (a compatible minor).
const SyntaxId kAsync{*Guid::Parse("6f1e2d3c-4b5a-4978-8695-a4b3c2d1e0f9"), 1, 2};
const SyntaxId kAsyncAsBound{kAsync.uuid, 1, 1};
const SyntaxId kSync{*Guid::Parse("0d0e0f10-1112-4314-9516-171819202122"), 3, 0};
constexpr uint32_t RPC_E_SERVERFAULT_STATUS = 0x80010105;

class Seam : public ::testing::Test {
 protected:
  void SetUp() override {
    InterfaceRegistration async;
    async.syntax = kAsync;
    async.async_handler = [this](IncomingCall call) {
      const uint16_t opnum = call.context.opnum;
      {
        std::lock_guard<std::mutex> lock(mu_);
        contexts_.push_back(call.context);
      }
      switch (opnum) {
        case 0:  // kept, answered later by the test
        {
          std::lock_guard<std::mutex> lock(mu_);
          pending_.push_back(std::move(call));
          return;
        }
        case 1:  // answered before the handler returns
          call.responder.Reply(Reversed(call.stub));
          return;
        case 2:  // dropped: the responder dies unanswered with the call
          return;
        case 3:
          throw std::runtime_error("async handler failure");
        case 4:
          throw 42;  // not even a std::exception
        default:
          call.responder.Fail(OpnumOutOfRange(opnum));
      }
    };
    registry_.Register(std::move(async));

    InterfaceRegistration sync;
    sync.syntax = kSync;
    sync.operations.push_back([](std::span<const uint8_t> stub, const CallContext&)
                                  -> Result<std::vector<uint8_t>> {
      return std::vector<uint8_t>(stub.begin(), stub.end());
    });
    sync.operations.push_back([](std::span<const uint8_t>, const CallContext&)
                                  -> Result<std::vector<uint8_t>> {
      throw std::logic_error("sync handler failure");
    });
    sync.operations.push_back([](std::span<const uint8_t>, const CallContext&)
                                  -> Result<std::vector<uint8_t>> { throw std::bad_alloc(); });
    registry_.Register(std::move(sync));
    Connect();
  }

  void TearDown() override {
    // Answers from the handler's kept calls go nowhere once the test ends.
    std::lock_guard<std::mutex> lock(mu_);
    pending_.clear();
  }

  void Connect() {
    conn_ = std::make_unique<ServerConnection>(&registry_, ServerLimits{}, false, "49700");
    conn_->SetPeerDescription("192.0.2.9:4000");
    conn_->SetWake([this] {
      std::lock_guard<std::mutex> lock(wake_mu_);
      ++wakes_;
      wake_cv_.notify_all();
    });
  }

  static std::vector<uint8_t> Reversed(std::vector<uint8_t> v) {
    std::reverse(v.begin(), v.end());
    return v;
  }

  std::vector<Pdu> Decode(const std::vector<std::vector<uint8_t>>& out) {
    std::vector<Pdu> replies;
    for (const auto& f : out) {
      auto d = DecodePdu(f);
      EXPECT_TRUE(d.ok()) << d.status().ToString();
      if (d.ok()) replies.push_back(std::move(*d));
    }
    return replies;
  }
  std::vector<Pdu> SendBytes(const std::vector<uint8_t>& bytes) {
    std::vector<std::vector<uint8_t>> out;
    open_ = conn_->OnFragment(bytes, out);
    return Decode(out);
  }
  std::vector<Pdu> Send(const Pdu& p) { return SendBytes(EncodePdu(p)); }
  std::vector<Pdu> TakeAnswers() {
    std::vector<std::vector<uint8_t>> out;
    conn_->TakeAnswers(out);
    return Decode(out);
  }

  void Bind(bool multiplex = false) {
    Pdu p;
    p.header.type = PduType::kBind;
    p.header.call_id = 1;
    if (multiplex) p.header.pfc_flags |= PFC_CONC_MPX;
    BindBody b;
    b.max_xmit_frag = b.max_recv_frag = 5840;
    b.contexts.push_back({0, kAsyncAsBound, {Ndr20Syntax()}});
    b.contexts.push_back({1, kSync, {Ndr20Syntax()}});
    p.body = b;
    auto r = Send(p);
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].header.type, PduType::kBindAck);
    ASSERT_EQ(conn_->multiplexed(), multiplex);
  }

  static Pdu Request(uint32_t call_id, uint16_t context_id, uint16_t opnum,
                     std::vector<uint8_t> stub, std::optional<Guid> object = std::nullopt) {
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    if (object) p.header.pfc_flags |= PFC_OBJECT_UUID;
    p.body = RequestBody{static_cast<uint32_t>(stub.size()), context_id, opnum, object,
                         std::move(stub)};
    return p;
  }

  static std::vector<uint8_t> StubOf(const Pdu& p) {
    return std::get<ResponseBody>(p.body).stub;
  }
  static uint32_t FaultStatus(const Pdu& p) { return std::get<FaultBody>(p.body).status; }

  // Waits until the wake callback has run `n` times in all.
  bool WaitForWakes(int n) {
    std::unique_lock<std::mutex> lock(wake_mu_);
    return wake_cv_.wait_for(lock, std::chrono::seconds(30), [&] { return wakes_ >= n; });
  }
  int wakes() {
    std::lock_guard<std::mutex> lock(wake_mu_);
    return wakes_;
  }
  std::vector<IncomingCall> TakePending() {
    std::lock_guard<std::mutex> lock(mu_);
    return std::exchange(pending_, {});
  }

  InterfaceRegistry registry_;
  std::unique_ptr<ServerConnection> conn_;
  bool open_ = true;
  std::mutex mu_;
  std::vector<CallContext> contexts_;
  std::vector<IncomingCall> pending_;
  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  int wakes_ = 0;
};

// ==== Answers given later ===================================================

TEST_F(Seam, AsyncHandlerAnswersLaterFromAnotherThread) {
  Bind();
  EXPECT_TRUE(Send(Request(2, 0, 0, {1, 2, 3})).empty());  // no answer yet
  EXPECT_EQ(conn_->calls_in_progress(), 1u);
  EXPECT_TRUE(TakeAnswers().empty());
  auto pending = TakePending();
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].stub, (std::vector<uint8_t>{1, 2, 3}));
  std::thread answerer([call = std::move(pending[0])]() mutable {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    call.responder.Reply({9, 8, 7, 6});
    EXPECT_TRUE(call.responder.answered());
  });
  ASSERT_TRUE(WaitForWakes(1));
  answerer.join();
  auto r = TakeAnswers();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(r[0].header.call_id, 2u);
  EXPECT_EQ(StubOf(r[0]), (std::vector<uint8_t>{9, 8, 7, 6}));
  EXPECT_EQ(conn_->calls_in_progress(), 0u);
  EXPECT_TRUE(TakeAnswers().empty());  // once
  // The connection serves on.
  r = Send(Request(3, 0, 1, {1, 2}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(StubOf(r[0]), (std::vector<uint8_t>{2, 1}));
}

TEST_F(Seam, AsyncFailureBecomesItsFault) {
  Bind();
  ASSERT_TRUE(Send(Request(2, 0, 0, {})).empty());
  ASSERT_TRUE(Send(Request(3, 0, 0, {})).empty());
  auto pending = TakePending();
  ASSERT_EQ(pending.size(), 2u);
  std::thread([&] {
    pending[0].responder.Fail(Status(E_ACCESSDENIED, "not you"));
    pending[1].responder.Fail(Status(HResult(0x8004D00Au), "a COM error"));
  }).join();
  auto r = TakeAnswers();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].header.call_id, 2u);
  EXPECT_EQ(FaultStatus(r[0]), nca_s_fault_access_denied);
  EXPECT_EQ(r[1].header.call_id, 3u);
  EXPECT_EQ(FaultStatus(r[1]), 0x8004D00Au);  // an HRESULT travels as itself
  // A call that ran and failed did execute.
  EXPECT_FALSE(r[0].header.pfc_flags & PFC_DID_NOT_EXECUTE);
}

// On a multiplexed association calls complete in the order they are
// answered, not the order they came.
TEST_F(Seam, MultiplexedCallsAnsweredOutOfOrder) {
  Bind(/*multiplex=*/true);
  ASSERT_TRUE(Send(Request(10, 0, 0, {10})).empty());
  ASSERT_TRUE(Send(Request(11, 0, 0, {11})).empty());
  auto fast = Send(Request(12, 0, 1, {1, 2}));  // answered inline meanwhile
  ASSERT_EQ(fast.size(), 1u);
  EXPECT_EQ(fast[0].header.call_id, 12u);
  EXPECT_EQ(conn_->calls_in_progress(), 2u);
  auto pending = TakePending();
  ASSERT_EQ(pending.size(), 2u);
  std::thread([&] { pending[1].responder.Reply({0xBB}); }).join();
  std::thread([&] { pending[0].responder.Reply({0xAA}); }).join();
  ASSERT_TRUE(WaitForWakes(2));
  auto r = TakeAnswers();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].header.call_id, 11u);
  EXPECT_EQ(StubOf(r[0]), std::vector<uint8_t>{0xBB});
  EXPECT_EQ(r[1].header.call_id, 10u);
  EXPECT_EQ(StubOf(r[1]), std::vector<uint8_t>{0xAA});
}

// An answer that arrives while the connection handles the next fragment
// goes out with that fragment's replies.
TEST_F(Seam, AnswersGivenMeanwhileLeaveWithTheNextReplies) {
  Bind(/*multiplex=*/true);
  ASSERT_TRUE(Send(Request(2, 0, 0, {})).empty());
  auto pending = TakePending();
  std::thread([&] { pending[0].responder.Reply({5}); }).join();
  auto r = Send(Request(3, 0, 1, {6}));
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].header.call_id, 2u);
  EXPECT_EQ(r[1].header.call_id, 3u);
}

// ==== What reaches the handler ==============================================

TEST_F(Seam, CallContextCarriesObjectInterfaceOpnumAndDataRep) {
  Bind();
  const Guid object = *Guid::Parse("a1b2c3d4-e5f6-4708-9a0b-1c2d3e4f5a6b");
  ASSERT_EQ(Send(Request(7, 0, 1, {1}, object)).size(), 1u);
  ASSERT_EQ(Send(Request(8, 0, 1, {1})).size(), 1u);
  // A big-endian sender (drep 0x00), packed by hand: header, alloc_hint,
  // context 0, opnum 1, no object, a 4-byte stub.
  ByteWriter w;
  for (uint8_t b : {5, 0, 0, PFC_FIRST_FRAG | PFC_LAST_FRAG, 0x00, 0, 0, 0}) w.U8(b);
  for (uint8_t b : {0, 28, 0, 0, 0, 0, 0, 9}) w.U8(b);  // frag_length 28, auth 0, call 9
  for (uint8_t b : {0, 0, 0, 4, 0, 0, 0, 1}) w.U8(b);   // alloc_hint 4, context 0, opnum 1
  for (uint8_t b : {0xDE, 0xAD, 0xBE, 0xEF}) w.U8(b);
  auto r = SendBytes(w.bytes());
  ASSERT_EQ(r.size(), 1u) << conn_->close_reason();
  EXPECT_EQ(r[0].header.type, PduType::kResponse);

  std::lock_guard<std::mutex> lock(mu_);
  ASSERT_EQ(contexts_.size(), 3u);
  const CallContext& with_object = contexts_[0];
  ASSERT_TRUE(with_object.object.has_value());
  EXPECT_EQ(*with_object.object, object);
  EXPECT_EQ(with_object.call_id, 7u);
  EXPECT_EQ(with_object.opnum, 1);
  EXPECT_EQ(with_object.context_id, 0);
  // The interface as the presentation context names it (the client's
  // version, which the registration's minor version serves).
  EXPECT_EQ(with_object.interface, kAsyncAsBound);
  EXPECT_TRUE(with_object.data_rep.little_endian);
  EXPECT_EQ(with_object.peer, "192.0.2.9:4000");
  EXPECT_EQ(with_object.security.authn_level, AuthnLevel::kNone);
  EXPECT_EQ(with_object.security.authn_svc, RPC_C_AUTHN_NONE);
  EXPECT_FALSE(contexts_[1].object.has_value());
  const CallContext& big_endian = contexts_[2];
  EXPECT_EQ(big_endian.call_id, 9u);
  EXPECT_EQ(big_endian.opnum, 1);
  EXPECT_FALSE(big_endian.data_rep.little_endian);
  EXPECT_EQ(big_endian.interface, kAsyncAsBound);
}

// ==== Handlers that throw, responders dropped ===============================

// Conformance case 41: the fault is RPC_E_SERVERFAULT (0x80010105), and the
// next call on the same connection is served.
TEST_F(Seam, ThrowingSyncHandlerFaultsServerFaultAndTheConnectionServesOn) {
  Bind();
  auto r = Send(Request(2, 1, 1, {1}));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT_STATUS);
  EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT.value());
  EXPECT_TRUE(open_);
  r = Send(Request(3, 1, 0, {4, 5}));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
  EXPECT_EQ(StubOf(r[0]), (std::vector<uint8_t>{4, 5}));
}

// STYLE.md: where comsec calls user code, std::bad_alloc is E_OUTOFMEMORY
// (its Win32 code, ERROR_NOT_ENOUGH_MEMORY, as the fault status, which the
// client maps back to E_OUTOFMEMORY).
TEST_F(Seam, SyncHandlerOutOfMemoryFaultsOutOfMemory) {
  Bind();
  auto r = Send(Request(2, 1, 2, {1}));
  ASSERT_EQ(r.size(), 1u);
  ASSERT_EQ(r[0].header.type, PduType::kFault);
  EXPECT_EQ(FaultStatus(r[0]), 14u);  // ERROR_NOT_ENOUGH_MEMORY
  EXPECT_TRUE(open_);
  r = Send(Request(3, 1, 0, {4}));
  ASSERT_EQ(r[0].header.type, PduType::kResponse);
}

TEST_F(Seam, ThrowingAsyncHandlerFaultsServerFaultAndTheConnectionServesOn) {
  Bind();
  for (uint16_t opnum : {3, 4}) {
    const uint32_t call_id = 20u + opnum;
    auto r = Send(Request(call_id, 0, opnum, {1}));
    ASSERT_EQ(r.size(), 1u) << opnum;
    ASSERT_EQ(r[0].header.type, PduType::kFault);
    EXPECT_EQ(r[0].header.call_id, call_id);
    EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT_STATUS);
    EXPECT_TRUE(open_);
    EXPECT_EQ(conn_->calls_in_progress(), 0u);
    r = Send(Request(call_id + 100, 0, 1, {1, 2, 3}));
    ASSERT_EQ(r.size(), 1u);
    ASSERT_EQ(r[0].header.type, PduType::kResponse) << opnum;
    EXPECT_EQ(StubOf(r[0]), (std::vector<uint8_t>{3, 2, 1}));
  }
}

TEST_F(Seam, ResponderDroppedUnansweredFaultsServerFault) {
  Bind();
  // Dropped by the handler itself.
  auto r = Send(Request(2, 0, 2, {}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT_STATUS);
  // Kept, then dropped on another thread.
  ASSERT_TRUE(Send(Request(3, 0, 0, {})).empty());
  auto pending = TakePending();
  const int before = wakes();
  std::thread([call = std::move(pending[0])]() mutable { IncomingCall gone = std::move(call); })
      .join();
  ASSERT_TRUE(WaitForWakes(before + 1));
  r = TakeAnswers();
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(r[0].header.call_id, 3u);
  EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT_STATUS);
  // A responder moved over one that was unanswered faults the latter.
  ASSERT_TRUE(Send(Request(4, 0, 0, {})).empty());
  ASSERT_TRUE(Send(Request(5, 0, 0, {})).empty());
  pending = TakePending();
  pending[0].responder = std::move(pending[1].responder);  // call 4 abandoned
  pending[0].responder.Reply({5});
  r = TakeAnswers();
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r[0].header.call_id, 4u);
  EXPECT_EQ(FaultStatus(r[0]), RPC_E_SERVERFAULT_STATUS);
  EXPECT_EQ(r[1].header.call_id, 5u);
  EXPECT_EQ(StubOf(r[1]), std::vector<uint8_t>{5});
}

TEST_F(Seam, AnswerAfterTheConnectionIsDestroyedDoesNothing) {
  Bind();
  ASSERT_TRUE(Send(Request(2, 0, 0, {})).empty());
  ASSERT_TRUE(Send(Request(3, 0, 0, {})).empty());
  auto pending = TakePending();
  ASSERT_EQ(pending.size(), 2u);
  const int before = wakes();
  conn_.reset();
  std::thread([&] {
    pending[0].responder.Reply(std::vector<uint8_t>(100000, 1));
    pending[1].responder.Fail(Status(E_FAIL, "late"));
  }).join();
  pending.clear();
  EXPECT_EQ(wakes(), before);  // nobody to wake
  // And a connection made afterwards is unaffected.
  Connect();
  Bind();
  auto r = Send(Request(2, 0, 1, {1, 2}));
  ASSERT_EQ(r.size(), 1u);
  EXPECT_EQ(StubOf(r[0]), (std::vector<uint8_t>{2, 1}));
}

// Destroying the connection while another thread answers: either the
// answer is queued before the close (and dropped with the connection) or
// it finds the connection closed; neither crashes nor wakes a dead owner
// (run under ThreadSanitizer by make test-tsan).
TEST_F(Seam, AnswersRacingTheConnectionsDestructionAreSafe) {
  for (int round = 0; round < 50; ++round) {
    Connect();
    Bind(/*multiplex=*/true);
    for (uint32_t id = 2; id < 10; ++id) ASSERT_TRUE(Send(Request(id, 0, 0, {})).empty());
    auto pending = TakePending();
    std::thread answerer([&] {
      for (auto& call : pending) call.responder.Reply({1});
    });
    conn_.reset();
    answerer.join();
  }
}

// ==== Many answers at once ==================================================

// 64 calls in flight on a multiplexed association (the default
// max_concurrent_calls), each answered by its own thread; the connection's
// thread takes answers whenever woken until all are sent, each exactly
// once and under its own call id.
TEST_F(Seam, ManyCallsAnsweredConcurrentlyFromManyThreads) {
  Bind(/*multiplex=*/true);
  constexpr uint32_t kCalls = 64;
  for (uint32_t i = 0; i < kCalls; ++i) {
    ASSERT_TRUE(Send(Request(100 + i, 0, 0, {static_cast<uint8_t>(i)})).empty());
  }
  EXPECT_EQ(conn_->calls_in_progress(), kCalls);
  auto pending = TakePending();
  ASSERT_EQ(pending.size(), kCalls);
  std::vector<std::thread> threads;
  for (auto& call : pending) {
    threads.emplace_back([call = std::move(call)]() mutable {
      call.responder.Reply({static_cast<uint8_t>(call.stub[0] ^ 0xFF)});
    });
  }
  std::map<uint32_t, std::vector<uint8_t>> answers;
  while (answers.size() < kCalls) {
    ASSERT_TRUE(WaitForWakes(static_cast<int>(answers.size()) + 1));
    for (const Pdu& p : TakeAnswers()) {
      ASSERT_EQ(p.header.type, PduType::kResponse);
      EXPECT_TRUE(answers.emplace(p.header.call_id, StubOf(p)).second) << p.header.call_id;
    }
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(TakeAnswers().empty());
  for (uint32_t i = 0; i < kCalls; ++i) {
    EXPECT_EQ(answers[100 + i], std::vector<uint8_t>{static_cast<uint8_t>(i ^ 0xFF)});
  }
  EXPECT_EQ(conn_->calls_in_progress(), 0u);
}

}  // namespace
}  // namespace comsec::rpc
