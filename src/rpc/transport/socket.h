// Stream transports for connection-oriented RPC: ncacn_ip_tcp (IPv4 and
// IPv6) and ncalrpc over Unix-domain stream sockets, where the kernel
// vouches for the caller (SO_PEERCRED). A Socket reads whole fragments,
// framed by the header's frag_length, with a deadline so that a slow
// sender cannot hold a worker forever.
//
// ncalrpc endpoints are files, so who may reach and who may squat them is
// decided by the file system. A Listener creates its socket in a directory
// that only root or the server's own user may write (created 0755 when
// missing; one writable by group or others, or owned by another user, is
// refused), and sets the socket's mode explicitly (0666 unless the binding
// says `mode=0NNN`) instead of inheriting the umask. A client learns who
// serves the socket from the kernel (SO_PEERCRED) and refuses an impostor
// (VerifyLocalServer).
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/base/win32_error.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/transport/endpoint.h"

namespace comsec::rpc {

// Sockets fail with base/win32_error.h's codes: RPC_S_CALL_FAILED for
// broken connections, RPC_S_SERVER_UNAVAILABLE when nothing answers,
// ERROR_TIMEOUT when the peer does not complete a fragment in time,
// RPC_S_CANT_CREATE_ENDPOINT when a listener cannot be created (or its
// directory is not safe to create it in), RPC_S_DUPLICATE_ENDPOINT when
// another live server already listens on the ncalrpc path; and with
// SEC_E_WRONG_PRINCIPAL when the server that answered is not the one the
// client meant to reach (what a Windows client reports when mutual
// authentication finds another server principal than it expected).
//
// TODO(cleanup): the old name of ERROR_TIMEOUT, kept while rpc/server.cc
// (being rewritten) still spells it.
inline constexpr HResult HRESULT_TIMEOUT = ERROR_TIMEOUT;

// Where ncalrpc endpoints named without a directory ("ncalrpc:[epmapper]")
// live, as Windows keeps its LRPC ports under \RPC Control.
inline constexpr char kLocalEndpointDir[] = "/run/comsec";
// The mode of an ncalrpc socket unless its binding says `mode=0NNN`:
// connectable by every local user, who are then identified by the kernel.
inline constexpr unsigned kDefaultLocalEndpointMode = 0666;

// The socket path of an ncalrpc endpoint: the endpoint itself when it holds
// a '/', else that name under kLocalEndpointDir.
std::string LocalEndpointPath(const std::string& endpoint);

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
  Socket(Socket&& o) noexcept
      : fd_(o.fd_), leftover_(std::move(o.leftover_)), receive_timeout_ms_(o.receive_timeout_ms_) {
    o.fd_ = -1;
  }
  Socket& operator=(Socket&& o) noexcept;
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  static Result<Socket> Connect(const StringBinding& binding, int timeout_ms);

  bool valid() const { return fd_ >= 0; }
  int fd() const { return fd_; }
  // Gives up the descriptor without closing it.
  int Release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
  }

  Status WriteAll(std::span<const uint8_t> bytes);
  // One fragment: the 16-byte header, then frag_length - 16 more bytes, all
  // within `timeout_ms`, read in as few system calls as the peer allows
  // (bytes past the fragment wait for the next call). A clean close before any byte is
  // RPC_S_CALL_FAILED with "closed"; a frag_length below 16 returns the
  // header alone so that the protocol layer can answer it.
  Result<std::vector<uint8_t>> ReadFragment(int timeout_ms);
  // The kernel's view of an AF_UNIX peer; empty for TCP.
  std::optional<PeerCredentials> Peer() const;
  // On an ncalrpc connection, checks that the server runs as one of
  // `trusted_uids` (empty: root or this process's effective uid);
  // SEC_E_WRONG_PRINCIPAL naming the uid found when it does not. Nothing to
  // check on TCP.
  Status VerifyLocalServer(const std::vector<uint32_t>& trusted_uids) const;
  // True when the peer has closed the connection (EOF pending), checked
  // without blocking and without consuming data.
  bool PeerClosed() const;
  // True when a TCP peer's address is 127.0.0.0/8 or ::1.
  bool IsLoopbackPeer() const;
  // "127.0.0.1:50312", "[::1]:50312", or "ncalrpc pid 42 uid 1000".
  std::string PeerDescription() const;
  // Our end as the peer's PeerDescription() names it.
  std::string LocalDescription() const;
  // The two ends in structured form (rpc/transport/endpoint.h): our end is
  // the peer's PeerEndpoint() on the same connection, and the reverse.
  // Family kUnknown when the kernel cannot say (a closed descriptor).
  TransportEndpoint LocalEndpoint() const;
  TransportEndpoint PeerEndpoint() const;
  void ShutdownBoth();

 private:
  int fd_ = -1;
  // Bytes of the next fragments, read with the last one.
  std::vector<uint8_t> leftover_;
  // The SO_RCVTIMEO last set, in ms; -1 before.
  int receive_timeout_ms_ = -1;
};

class Listener {
 public:
  // Binds and listens; a TCP endpoint of "" or "0" takes a free port. An
  // ncalrpc endpoint replaces a stale socket file but never a live one
  // (RPC_S_DUPLICATE_ENDPOINT); its directory is checked or created as the
  // file comment says (RPC_S_CANT_CREATE_ENDPOINT when unsafe).
  static Result<Listener> Listen(const StringBinding& binding);
  Listener(Listener&&) noexcept = default;
  Listener& operator=(Listener&&) noexcept = default;

  // Waits up to timeout_ms; an empty result means no connection yet.
  Result<std::optional<Socket>> Accept(int timeout_ms);
  // The binding clients use, with the actual port filled in.
  const StringBinding& binding() const { return binding_; }
  bool local() const { return binding_.IsLocal(); }
  // The listening descriptor (an event loop waits on a duplicate of it).
  int fd() const { return socket_.fd(); }

 private:
  Listener(Socket s, StringBinding b) : socket_(std::move(s)), binding_(std::move(b)) {}
  Socket socket_;
  StringBinding binding_;
};

}  // namespace comsec::rpc
