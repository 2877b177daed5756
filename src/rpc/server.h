// Server: listens on string bindings and runs a ServerConnection per
// accepted connection on its own worker thread, within a limit on
// connections and a deadline for each fragment. Stop() closes listeners and
// connections and joins every thread.
#pragma once

#include <atomic>
#include <functional>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "rpc/interface.h"
#include "rpc/server_connection.h"
#include "rpc/transport/socket.h"

namespace comsec::rpc {

struct ServerOptions {
  ServerLimits limits;
  // Connections served at once; more are accepted and closed at once.
  size_t max_connections = 256;
  // A fragment must arrive whole within this time once it has started, and
  // an idle connection is closed after idle_timeout_ms.
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
  void Serve(Socket socket, bool local, std::string secondary_address,
             std::shared_ptr<std::atomic<bool>> done);

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
};

}  // namespace comsec::rpc
