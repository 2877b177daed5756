// The NTLM reflection defence (MS08-068): the server challenges that this
// process's NTLM clients received recently, each with the connection it
// arrived on. An attacker who connects to our server, takes its CHALLENGE,
// gets one of our clients to connect to the attacker and hands it that
// challenge, then passes our client's AUTHENTICATE back to our server,
// would log in as our client's user. The server refuses an AUTHENTICATE
// answering a challenge one of our clients received — unless it arrives on
// that very connection (our client talking to our server directly, a
// loopback logon), which is told by the connection's two ends in
// structured form (rpc/transport/endpoint.h): on one connection the
// client's local end is the server's peer and the other way round. An end
// that is not known counts as another connection: the check fails closed.
//
// One registry per process, owned by its Runtime (runtime/runtime.h) and
// handed to every NTLM package, client and server alike; a package given
// none neither records nor checks (auth/ntlm/ntlm_package.h).
//
// Bounded: at most `max_entries` challenges, each remembered for
// `lifetime` (a handshake completes well within it: the RPC server's
// handshake deadline is seconds). When full, the oldest is forgotten even
// if younger than its lifetime — a reflection of that challenge would then
// pass — and this is logged once per burst, since only a client made to
// receive that many challenges so quickly can cause it.
//
// Thread-safety: safe from any number of threads at once (one lock).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <string>

#include "comsec/base/log.h"
#include "comsec/rpc/transport/endpoint.h"

namespace comsec::auth::ntlm {

struct ReflectionLimits {
  // Challenges remembered at once: 4096 entries of about 100 bytes.
  size_t max_entries = 4096;
  // How long a received challenge is remembered.
  std::chrono::steady_clock::duration lifetime = std::chrono::minutes(5);
};

class ReflectionRegistry {
 public:
  using Clock = std::function<std::chrono::steady_clock::time_point()>;
  using Challenge = std::array<uint8_t, 8>;

  using Limits = ReflectionLimits;

  // `logger` (null: none; must outlive the registry) gets one
  // ntlm.reflection_registry_full event (warning, extra max_entries) when a
  // challenge younger than its lifetime is forgotten to make room, then
  // none until the registry had room again; `clock` is for tests (default:
  // steady_clock).
  explicit ReflectionRegistry(Limits limits = {}, const Logger* logger = nullptr,
                              Clock clock = {});
  ReflectionRegistry(const ReflectionRegistry&) = delete;
  ReflectionRegistry& operator=(const ReflectionRegistry&) = delete;

  // Client side: one of our clients received `challenge` on the connection
  // whose ends are `local` (the client's) and `peer` (the server's).
  void RememberReceived(const Challenge& challenge, const rpc::TransportEndpoint& local,
                        const rpc::TransportEndpoint& peer);

  // Server side: true when `challenge`, which our server issued on the
  // connection whose ends are `local` (the server's) and `peer` (the
  // client's), was received by one of our clients on another connection
  // (or on one whose ends are not both known) within its lifetime.
  bool IsReflected(const Challenge& challenge, const rpc::TransportEndpoint& local,
                   const rpc::TransportEndpoint& peer) const;

  // Challenges remembered now, expired ones included until the next
  // RememberReceived drops them.
  size_t size() const;

 private:
  struct Entry {
    Challenge challenge;
    rpc::TransportEndpoint client_local;
    rpc::TransportEndpoint client_peer;
    std::chrono::steady_clock::time_point received;
  };

  std::chrono::steady_clock::time_point Now() const {
    return clock_ ? clock_() : std::chrono::steady_clock::now();
  }

  const Limits limits_;
  const Logger* const logger_;
  const Clock clock_;
  mutable std::mutex mu_;
  std::deque<Entry> entries_;  // oldest first; guarded by mu_
  bool eviction_logged_ = false;  // guarded by mu_
};

}  // namespace comsec::auth::ntlm
