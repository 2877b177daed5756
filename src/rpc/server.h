// Server: listens on string bindings and serves each accepted connection
// with a ServerConnection, event-driven (standalone Asio): `threads` event
// loops, each one io_context run by one thread, and each connection bound
// to one loop, which runs its reads, writes, timers and protocol work —
// fragments in, answers out — so one connection is processed by one thread
// while thousands wait without a thread each. A synchronous handler runs
// on the connection's loop thread; an asynchronous one answers from any
// thread, which wakes the connection's loop to send the answer.
// Stop() closes listeners and connections and joins the pool.
//
// Slow and idle peers cannot lock others out (conformance cases 48, 49):
// connections are counted per transport (TCP and ncalrpc apart) and, on
// TCP, per peer address, and one past a limit is closed at once, without a
// reply; a handshake must complete within handshake_timeout_ms (connect →
// bind acknowledged, then bind → its authentication complete); a fragment,
// once its first byte arrived, must arrive whole within fragment_timeout_ms;
// a connection with nothing to do is closed after idle_timeout_ms. Each
// close is logged with its reason.
#pragma once

#include <atomic>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/server_connection.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::rpc {

struct ServerOptions {
  ServerLimits limits;
  // Threads serving every connection (sockets, timers, protocol work and
  // synchronous handlers); 0: twice the processors, at least 4.
  size_t threads = 0;
  // TCP connections served at once, over all TCP listeners; more are
  // accepted and closed at once.
  size_t max_connections = 256;
  // Of those, from one peer address: one host cannot take every slot.
  size_t max_connections_per_address = 64;
  // ncalrpc connections served at once, counted apart from TCP's so that
  // remote peers cannot lock local callers out (nor the reverse).
  size_t max_local_connections = 256;
  // From connect until the bind is acknowledged, and from then until the
  // authentication it started completes (or a refused auth3 is answered):
  // a peer that stalls a handshake is closed after this.
  int handshake_timeout_ms = 10000;
  // A fragment must arrive whole within this time once its first byte has,
  // and an idle connection is closed after idle_timeout_ms.
  int fragment_timeout_ms = 10000;
  int idle_timeout_ms = 300000;
  // A request without a verifier on an association authenticated at CALL
  // or PKT is refused with fault nca_s_fault_access_denied and the
  // connection closed, as on Windows (Samba serves it as an unauthenticated
  // call, which any interface with a minimum level refuses the same way).
  // impacket sends such requests; this serves them as CONNECT-level calls
  // (CallSecurity::authn_level kConnect), logged once per connection.
  // Weakens what a man in the middle can inject: off unless a deployment
  // must serve such clients.
  bool allow_unverified_requests = false;
  // The security packages offered; null offers none. Must outlive the server.
  const SecurityPackageRegistry* packages = nullptr;
  // The server's structured events (base/log.h), each with the peer:
  //   rpc.connection_closed   notice   a connection closed and why
  //                                    ("closing connection from PEER: why")
  //   rpc.connection_refused  warning  connections refused at admission,
  //                                    once per burst ("refusing connections
  //                                    from PEER: ...")
  //   rpc.bind_refused        warning  a bind answered with bind_nak (its
  //                                    reason in the extra nak_reason)
  //   rpc.call_denied         warning  a call refused before its stub ran
  //                                    (principal, level, interface, opnum,
  //                                    HRESULT)
  //   rpc.handler_threw       error    a handler threw; its call faulted
  //                                    with RPC_E_SERVERFAULT
  //   rpc.weak_setting        warning  a weakened setting in use
  //                                    (allow_unverified_requests)
  // and the packages' own events (ntlm.*). Null: none. Must outlive the
  // server.
  const Logger* logger = nullptr;
};

namespace internal {
class ServerSession;
struct ServerIo;
}  // namespace internal

class Server {
 public:
  // `registry` must outlive the server.
  Server(const InterfaceRegistry* registry, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts listening and accepting.
  Result<StringBinding> Listen(const StringBinding& binding);
  // Parses and listens on each string binding, in order; the bound bindings
  // (actual ports filled in). RPC_S_INVALID_STRING_BINDING for a bad one.
  Result<std::vector<StringBinding>> ListenAll(
      const std::vector<std::string>& bindings);
  void Stop();

  size_t active_connections() const { return active_.load(); }

 private:
  friend class internal::ServerSession;
  struct Acceptor;
  void StartAccept(Acceptor* acceptor);
  void OnAccepted(Acceptor* acceptor, int fd);
  // Counts a new connection, or says why it is refused. REQUIRES: mu_ held.
  bool AdmitLocked(bool local, const std::string& address, std::string* why);
  // A session ended: its slot is free.
  void Release(const std::shared_ptr<internal::ServerSession>& session, bool local,
               const std::string& address);

  const InterfaceRegistry* registry_;
  ServerOptions options_;
  std::shared_ptr<internal::ServerIo> io_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  AssociationGroups groups_;

  std::mutex mu_;
  std::list<Listener> listeners_;
  std::list<std::unique_ptr<Acceptor>> acceptors_;
  std::set<std::shared_ptr<internal::ServerSession>> sessions_;
  size_t tcp_active_ = 0;
  size_t local_active_ = 0;
  struct AddressCount {
    size_t active = 0;
    bool refusal_logged = false;  // one event per burst of refusals
  };
  std::map<std::string, AddressCount> per_address_;
  bool tcp_refusal_logged_ = false;
  bool local_refusal_logged_ = false;
};

}  // namespace comsec::rpc
