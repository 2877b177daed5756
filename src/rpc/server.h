// Server: listens on string bindings and runs a ServerConnection per
// accepted connection on its own worker thread. Stop() closes listeners and
// connections and joins every thread.
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
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "comsec/rpc/interface.h"
#include "comsec/rpc/server_connection.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::rpc {

struct ServerOptions {
  ServerLimits limits;
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
  // (CallContext::authn_level 2), logged once per connection. Weakens what
  // a man in the middle can inject: off unless a deployment must serve
  // such clients.
  bool allow_unverified_requests = false;
  // The security packages offered; null offers none. Must outlive the server.
  const SecurityPackageRegistry* packages = nullptr;
  // Called with a line for each connection closed on a protocol violation.
  std::function<void(const std::string&)> log;
};

class Server {
 public:
  // `registry` must outlive the server.
  Server(const InterfaceRegistry* registry, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Starts listening (and accepting, on a thread per listener).
  Result<StringBinding> Listen(const StringBinding& binding);
  // Parses and listens on each string binding, in order; the bound bindings
  // (actual ports filled in). RPC_S_INVALID_STRING_BINDING for a bad one.
  Result<std::vector<StringBinding>> ListenAll(
      const std::vector<std::string>& bindings);
  void Stop();

  size_t active_connections() const { return active_.load(); }

 private:
  void AcceptLoop(Listener* listener);
  // `address` is the TCP peer's address as counted in per_address_ ("" on
  // ncalrpc).
  void Serve(Socket socket, bool local, std::string address,
             std::string secondary_address, std::shared_ptr<std::atomic<bool>> done);
  // Counts a new connection, or says why it is refused. REQUIRES: mu_ held.
  bool AdmitLocked(bool local, const std::string& address, std::string* why);

  const InterfaceRegistry* registry_;
  ServerOptions options_;
  std::atomic<bool> stopping_{false};
  std::atomic<size_t> active_{0};
  // Joins workers that have finished. REQUIRES: mu_ held.
  void ReapLocked();

  struct Worker {
    std::thread thread;
    std::shared_ptr<std::atomic<bool>> done;
  };

  AssociationGroups groups_;
  std::mutex mu_;
  std::list<Listener> listeners_;
  std::vector<std::thread> accept_threads_;
  std::list<Worker> workers_;
  std::list<int> open_fds_;
  size_t tcp_active_ = 0;
  size_t local_active_ = 0;
  struct AddressCount {
    size_t active = 0;
    bool refusal_logged = false;  // one log line per burst of refusals
  };
  std::map<std::string, AddressCount> per_address_;
  bool tcp_refusal_logged_ = false;
  bool local_refusal_logged_ = false;
};

}  // namespace comsec::rpc
