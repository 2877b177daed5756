// Stream transports for connection-oriented RPC: ncacn_ip_tcp (IPv4 and
// IPv6) and ncalrpc over Unix-domain stream sockets, where the kernel
// vouches for the caller (SO_PEERCRED). A Socket reads whole fragments,
// framed by the header's frag_length, with a deadline so that a slow
// sender cannot hold a worker forever.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "base/result.h"
#include "rpc/binding.h"

namespace comsec::rpc {

// RPC_S_CALL_FAILED (1726) for broken connections; RPC_S_SERVER_UNAVAILABLE
// (1722) when nothing answers; RPC_S_CALL_CANCELLED... not used here.
inline constexpr HResult RPC_S_CALL_FAILED = HResult::FromWin32(1726);
inline constexpr HResult RPC_S_SERVER_UNAVAILABLE = HResult::FromWin32(1722);
// ERROR_TIMEOUT (1460): the peer did not complete a fragment in time.
inline constexpr HResult HRESULT_TIMEOUT = HResult::FromWin32(1460);

// Who is on the other end of an ncalrpc socket, from the kernel.
struct PeerCredentials {
  pid_t pid = 0;
  uid_t uid = 0;
  gid_t gid = 0;
};

class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket();
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  static Result<Socket> Connect(const StringBinding& binding, int timeout_ms);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }

  Status WriteAll(std::span<const uint8_t> bytes);
  // One fragment: the 16-byte header, then frag_length - 16 more bytes, all
  // within `timeout_ms`. A clean close before any byte is
  // RPC_S_CALL_FAILED with "closed"; a frag_length below 16 returns the
  // header alone so that the protocol layer can answer it.
  Result<std::vector<uint8_t>> ReadFragment(int timeout_ms);
  // The kernel's view of an AF_UNIX peer; empty for TCP.
  std::optional<PeerCredentials> Peer() const;
  // True when the peer has closed the connection (EOF pending), checked
  // without blocking and without consuming data.
  bool PeerClosed() const;
  // True when a TCP peer's address is 127.0.0.0/8 or ::1.
  bool IsLoopbackPeer() const;
  // "127.0.0.1:50312", "[::1]:50312", or "ncalrpc pid 42 uid 1000".
  std::string PeerDescription() const;
  // Our end as the peer's PeerDescription() names it.
  std::string LocalDescription() const;
  void ShutdownBoth();

 private:
  Status ReadExact(uint8_t* out, size_t n, int64_t deadline_ms, bool* eof_at_start);
  int fd_ = -1;
};

class Listener {
 public:
  // Binds and listens; a TCP endpoint of "" or "0" takes a free port, an
  // ncalrpc path replaces a stale socket file.
  static Result<Listener> Listen(const StringBinding& binding);
  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;

  // Waits up to timeout_ms; an empty result means no connection yet.
  Result<std::optional<Socket>> Accept(int timeout_ms);
  // The binding clients use, with the actual port filled in.
  const StringBinding& binding() const { return binding_; }
  bool local() const { return binding_.IsLocal(); }

 private:
  Listener(Socket s, StringBinding b) : socket_(std::move(s)), binding_(std::move(b)) {}
  Socket socket_;
  StringBinding binding_;
};

}  // namespace comsec::rpc
