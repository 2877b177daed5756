// ServerSession: one accepted connection served by the event loop — reads
// framed fragments into its ServerConnection and writes what it answers,
// under the deadlines ServerOptions sets (handshake, fragment, idle), all
// on the connection's strand. Answers given later on other threads wake
// the strand (ServerConnection::SetWake) to be sent.
//
// Memory while idle: the socket, a timer, a strand, the 16-byte header
// buffer and the ServerConnection with its authentication contexts; a
// fragment's body is allocated only while it is read.
//
// Thread-safety: owned by the Server and shared with its own pending
// operations (shared_from_this); every member is touched only on the
// strand, except Close, which posts to it.
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
  // Arms the idle or handshake deadline and waits for the next fragment.
  void WaitForFragment();
  // Waits until the socket has bytes, then reads them.
  void AwaitReadable();
  void ArmFragmentDeadline();
  // Reads what the socket has without waiting and hands every whole
  // fragment to the connection; false when the connection closed.
  bool ReadAvailable();
  void OnFragment(std::span<const uint8_t> fragment);
  void TakeAnswers();
  void Send(std::vector<std::vector<uint8_t>>& fragments);
  void WriteNext();
  // Arms the timer for `deadline_ms` (steady clock); its expiry closes
  // the connection, saying why.
  void ArmTimer(int64_t deadline_ms, std::string why);
  void Shutdown(const std::string& why);
  void Finish();
  std::string HandshakeLate() const;
  // One rpc.connection_closed event.
  void LogClosed(const std::string& why);

  Server* server_;
  asio::generic::stream_protocol::socket socket_;
  asio::strand<asio::io_context::executor_type> strand_;
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
  // Bumped at every re-arm, so that a stale expiry does nothing.
  uint64_t timer_generation_ = 0;
};

}  // namespace comsec::rpc::internal
