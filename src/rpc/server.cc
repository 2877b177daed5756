#include "comsec/rpc/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <chrono>

namespace comsec::rpc {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The peer's address without its port, as per-address limits count it.
std::string PeerAddress(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "?";
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
  }
  return text;
}

}  // namespace

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

bool Server::AdmitLocked(bool local, const std::string& address, std::string* why) {
  if (local) {
    if (local_active_ >= options_.max_local_connections) {
      if (!local_refusal_logged_) {
        local_refusal_logged_ = true;
        *why = std::to_string(local_active_) + " ncalrpc connections (max_local_connections)";
      }
      return false;
    }
    local_refusal_logged_ = false;
    ++local_active_;
    return true;
  }
  AddressCount& count = per_address_[address];
  if (tcp_active_ >= options_.max_connections) {
    if (!tcp_refusal_logged_) {
      tcp_refusal_logged_ = true;
      *why = std::to_string(tcp_active_) + " TCP connections (max_connections)";
    }
  } else if (count.active >= options_.max_connections_per_address) {
    if (!count.refusal_logged) {
      count.refusal_logged = true;
      *why = std::to_string(count.active) + " connections from " + address +
             " (max_connections_per_address)";
    }
  } else {
    tcp_refusal_logged_ = false;
    count.refusal_logged = false;
    ++count.active;
    ++tcp_active_;
    return true;
  }
  if (count.active == 0) per_address_.erase(address);
  return false;
}

void Server::AcceptLoop(Listener* listener) {
  const bool local = listener->local();
  // bind_ack's secondary address: the port (or socket path) clients reached.
  const std::string secondary = listener->binding().endpoint;
  while (!stopping_) {
    auto accepted = listener->Accept(200);
    if (!accepted.ok() || !accepted->has_value()) continue;
    Socket s = std::move(**accepted);
    const std::string address = local ? "" : PeerAddress(s.fd());
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) break;
    ReapLocked();
    std::string why;
    if (!AdmitLocked(local, address, &why)) {
      // Closing the socket refuses the connection. Logged once per burst,
      // so that a flood does not flood the log too.
      if (!why.empty() && options_.log) {
        options_.log("rpc: refusing connections from " +
                     (local ? std::string("ncalrpc callers") : address) + ": " + why +
                     " already served");
      }
      continue;
    }
    ++active_;
    open_fds_.push_back(s.fd());
    auto done = std::make_shared<std::atomic<bool>>(false);
    workers_.push_back({std::thread([this, sock = std::move(s), local, address, secondary,
                                     done]() mutable {
                          Serve(std::move(sock), local, address, secondary, done);
                        }),
                        done});
  }
}

void Server::Serve(Socket socket, bool local, std::string address,
                   std::string secondary_address,
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
  auto close = [&](const std::string& why) {
    if (options_.log) options_.log("rpc: closing connection from " + peer + ": " + why);
  };
  // The handshake deadline runs from connect until the bind is
  // acknowledged, then again from the bind until its authentication
  // completes; 0 while no handshake is pending.
  int64_t handshake_deadline = 0;
  bool was_bound = false;
  std::vector<std::vector<uint8_t>> out;
  while (!stopping_) {
    const int64_t now = NowMs();
    if (conn.bound() && !was_bound) {
      was_bound = true;
      handshake_deadline = 0;
    }
    if (conn.handshake_pending()) {
      if (handshake_deadline == 0) handshake_deadline = now + options_.handshake_timeout_ms;
    } else {
      handshake_deadline = 0;
    }
    // Wait for the next fragment to begin.
    int64_t wait = options_.idle_timeout_ms;
    if (handshake_deadline != 0) wait = std::min<int64_t>(wait, handshake_deadline - now);
    pollfd p{socket.fd(), POLLIN, 0};
    int ready = wait > 0 ? ::poll(&p, 1, static_cast<int>(wait)) : 0;
    if (ready < 0 && errno == EINTR) continue;
    if (ready < 0) break;
    auto handshake_late = [&] {
      return (was_bound ? "authentication" : "bind") +
             std::string(" not completed within the handshake deadline of ") +
             std::to_string(options_.handshake_timeout_ms) + " ms";
    };
    if (ready == 0) {
      close(handshake_deadline != 0
                ? handshake_late()
                : "idle for " + std::to_string(options_.idle_timeout_ms) + " ms");
      break;
    }
    // A fragment has begun: it must end within the fragment deadline, and
    // never past the handshake's.
    int64_t fragment_wait = options_.fragment_timeout_ms;
    bool handshake_bounds = false;
    if (handshake_deadline != 0 && handshake_deadline - NowMs() < fragment_wait) {
      fragment_wait = std::max<int64_t>(1, handshake_deadline - NowMs());
      handshake_bounds = true;
    }
    auto fragment = socket.ReadFragment(static_cast<int>(fragment_wait));
    if (!fragment.ok()) {
      if (fragment.status().code() == HRESULT_TIMEOUT && !stopping_) {
        close(handshake_bounds ? handshake_late()
                               : "a fragment did not arrive whole within " +
                                     std::to_string(fragment_wait) + " ms");
      }
      break;
    }
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
      close(conn.close_reason());
      break;
    }
    if (!write_ok) break;
  }
  std::lock_guard<std::mutex> lock(mu_);
  open_fds_.remove(socket.fd());
  if (local) {
    --local_active_;
  } else {
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second.active == 0) per_address_.erase(it);
    --tcp_active_;
  }
  --active_;
  done->store(true);
}

}  // namespace comsec::rpc
