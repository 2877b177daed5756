#include "rpc/server.h"

#include <sys/socket.h>

#include <algorithm>

namespace comsec::rpc {

Server::Server(const InterfaceRegistry* registry, ServerOptions options)
    : registry_(registry), options_(std::move(options)) {}

Server::~Server() { Stop(); }

Result<StringBinding> Server::Listen(const StringBinding& binding) {
  COMSEC_ASSIGN_OR_RETURN(Listener l, Listener::Listen(binding));
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(std::move(l));
  Listener* listener = &listeners_.back();
  accept_threads_.emplace_back([this, listener] { AcceptLoop(listener); });
  return listener->binding();
}

Result<std::vector<StringBinding>> Server::ListenAll(
    const std::vector<std::string>& bindings) {
  std::vector<StringBinding> bound;
  for (const std::string& text : bindings) {
    COMSEC_ASSIGN_OR_RETURN(StringBinding b, StringBinding::Parse(text));
    COMSEC_ASSIGN_OR_RETURN(StringBinding actual, Listen(b));
    bound.push_back(std::move(actual));
  }
  return bound;
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::thread> accept_threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    // Wake workers blocked in poll/recv.
    for (int fd : open_fds_) ::shutdown(fd, SHUT_RDWR);
    accept_threads.swap(accept_threads_);
  }
  // Once the accept loops are gone no worker can be added.
  for (auto& t : accept_threads) t.join();
  std::list<Worker> workers;
  {
    std::lock_guard<std::mutex> lock(mu_);
    workers.swap(workers_);
  }
  for (auto& w : workers) w.thread.join();
}

void Server::ReapLocked() {
  for (auto it = workers_.begin(); it != workers_.end();) {
    if (it->done->load()) {
      it->thread.join();
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void Server::AcceptLoop(Listener* listener) {
  const bool local = listener->local();
  // bind_ack's secondary address: the port (or socket path) clients reached.
  const std::string secondary = listener->binding().endpoint;
  while (!stopping_) {
    auto accepted = listener->Accept(200);
    if (!accepted.ok() || !accepted->has_value()) continue;
    Socket s = std::move(**accepted);
    if (active_.load() >= options_.max_connections) {
      continue;  // closing the socket refuses the connection
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) break;
    ReapLocked();
    ++active_;
    open_fds_.push_back(s.fd());
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, sock = std::move(s), local, secondary,
                                     done]() mutable {
                          Serve(std::move(sock), local, secondary, done);
                        }),
                        done});
  }
}

void Server::Serve(Socket socket, bool local, std::string secondary_address,
                   std::shared_ptr<std::atomic<bool>> done) {
  ServerConnection conn(registry_, options_.limits, local,
                        std::move(secondary_address));
  conn.SetLoopback(!local && socket.IsLoopbackPeer());
  const std::string peer = socket.PeerDescription();
  conn.SetPeerDescription(peer);
  conn.SetLog(options_.log);
  conn.SetPackages(options_.packages);
  conn.AllowUnverifiedRequests(options_.allow_unverified_requests);
  conn.SetAssociationGroups(&groups_);
  if (auto peer = socket.Peer()) {
    conn.SetPeer(peer->uid, peer->gid, static_cast<uint32_t>(peer->pid));
  }
  std::vector<std::vector<uint8_t>> out;
  while (!stopping_) {
    auto fragment = socket.ReadFragment(options_.idle_timeout_ms);
    if (!fragment.ok()) break;
    out.clear();
    bool keep = conn.OnFragment(*fragment, out);
    bool write_ok = true;
    for (const auto& f : out) {
      if (!socket.WriteAll(f).ok()) {
        write_ok = false;
        break;
      }
    }
    if (!keep) {
      if (options_.log) {
        options_.log("rpc: closing connection from " + peer + ": " +
                     conn.close_reason());
      }
      break;
    }
    if (!write_ok) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.remove(socket.fd());
  --active_;
  done->store(true);
}

}  // namespace comsec::rpc
