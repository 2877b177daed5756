// ServerSession: one accepted connection served by the event loop — reads
// framed fragments into its ServerConnection and writes what it answers,
// under the deadlines ServerOptions sets (handshake, fragment, idle), all
// on the thread of the event loop it is bound to (each loop is one
// io_context run by one thread, so that thread serializes the session
// without a strand). Answers given later on other threads wake the loop
// (ServerConnection::SetWake) to be sent.
//
// Per call, in the steady state: one recv (the reactor's, into the inbox)
// and one send; no epoll_ctl (a receive, unlike a readiness wait, needs no
// re-arming of the edge-triggered registration) and no timer operation
// (the deadline moves lazily: the timer, armed once, re-arms itself for
// the latest deadline when it fires early).
//
// Memory while idle: the socket, a timer, the inbox (kInboxBytes) and the
// ServerConnection with its authentication contexts; a fragment larger
// than the inbox is assembled in a buffer allocated only while it is read.
//
// Thread-safety: owned by the Server and shared with its own pending
// operations (shared_from_this); every member is touched only on its
// loop's thread, except Close, which posts to it.
#pragma once

#include <array>
#include <cstdint>
#include <atomic>
#include <deque>
#include <optional>
#include <span>
#include <thread>
#include <memory>
#include <string>
#include <vector>

#include <asio.hpp>

#include "comsec/rpc/server.h"
#include "comsec/rpc/server_connection.h"

namespace comsec::rpc::internal {

// The event loops: one io_context per thread, each connection bound to
// one of them round-robin, so that a connection's reads, protocol work and
// writes run on one thread without handing events between threads (a
// shared io_context measured 4x slower here for 16 busy connections). A
// synchronous handler that blocks holds up the connections of its loop
// only; handlers that may block for long should answer asynchronously.
struct ServerIo {
  std::vector<std::unique_ptr<asio::io_context>> contexts;
  std::vector<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::vector<std::thread> threads;
  std::atomic<size_t> next{0};
  asio::io_context& Next() { return *contexts[next++ % contexts.size()]; }
};

class ServerSession : public std::enable_shared_from_this<ServerSession> {
 public:
  ServerSession(Server* server, asio::generic::stream_protocol::socket socket, bool local,
                std::string address, std::string secondary_address);
  ~ServerSession();

  void Start();
  // Closes the connection (from any thread).
  void Close();

 private:
  // What a deadline's expiry says when it closes the connection.
  enum class Deadline : uint8_t { kHandshake, kIdle, kFragment };

  // Arms the idle or handshake deadline and waits for the next fragment.
  void WaitForFragment();
  // Receives into the inbox when the socket has bytes, then reads on.
  void AwaitReadable();
  void ArmFragmentDeadline();
  // Frames `data` into fragments and hands every whole one to the
  // connection; false when the connection closed.
  bool Consume(std::span<const uint8_t> data);
  // Reads what the socket still has without waiting (after a receive
  // that filled the inbox); false when the connection closed.
  bool ReadAvailable();
  void OnFragment(std::span<const uint8_t> fragment);
  void TakeAnswers();
  void Send(std::vector<std::vector<uint8_t>>& fragments);
  void WriteNext();
  // Sets the one deadline (steady clock, ms) whose expiry closes the
  // connection, saying why; `wait_ms` is the fragment deadline's length
  // for its sentence. ClearDeadline: calls are being served.
  void SetDeadline(int64_t deadline_ms, Deadline kind, int64_t wait_ms = 0);
  void ClearDeadline() { deadline_ms_ = 0; }
  void ArmTimer(int64_t at_ms);
  void OnTimer();
  std::string DeadlineReason() const;
  void Shutdown(const std::string& why);
  void Finish();
  std::string HandshakeLate() const;
  // One rpc.connection_closed event.
  void LogClosed(const std::string& why);

  Server* server_;
  asio::generic::stream_protocol::socket socket_;
  asio::io_context::executor_type executor_;
  asio::steady_timer timer_;
  ServerConnection conn_;
  bool local_;
  std::string address_;
  std::string peer_;
  // Bytes of a fragment not yet whole; empty (unallocated) between
  // fragments.
  std::vector<uint8_t> partial_;
  std::deque<std::vector<uint8_t>> writes_;
  bool writing_ = false;
  // No more reads; close once the queued writes are out.
  bool closing_ = false;
  bool closed_ = false;
  bool was_bound_ = false;
  // Waiting for a fragment to begin.
  bool waiting_ = false;
  int64_t handshake_deadline_ = 0;
  // The deadline in force (0: none) and what its expiry says.
  int64_t deadline_ms_ = 0;
  Deadline deadline_kind_ = Deadline::kIdle;
  int64_t deadline_wait_ms_ = 0;
  // When the timer is armed to fire (0: not armed); it fires no later than
  // deadline_ms_ and re-arms itself when that moved on.
  int64_t timer_at_ms_ = 0;
  // Bumped at every arming, so that a stale expiry does nothing.
  uint64_t timer_generation_ = 0;
  // What one receive takes: a small call's fragment whole.
  static constexpr size_t kInboxBytes = 512;
  std::array<uint8_t, kInboxBytes> inbox_;
};

}  // namespace comsec::rpc::internal
