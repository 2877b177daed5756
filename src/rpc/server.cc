#include "comsec/rpc/server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>

#include "comsec/rpc/server_session.h"

namespace comsec::rpc {
namespace {

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

int SocketFamily(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return AF_UNSPEC;
  return addr.ss_family;
}

}  // namespace

struct Server::Acceptor {
  explicit Acceptor(asio::io_context& io) : strand(asio::make_strand(io)), acceptor(strand) {}
  // Accepting and closing happen on the acceptor's strand: an acceptor is
  // not safe for two threads at once.
  asio::strand<asio::io_context::executor_type> strand;
  asio::basic_socket_acceptor<asio::generic::stream_protocol,
                              asio::strand<asio::io_context::executor_type>>
      acceptor;
  bool local = false;
  // bind_ack's secondary address: the port (or socket path) clients reached.
  std::string secondary;
};

Server::Server(const InterfaceRegistry* registry, ServerOptions options)
    : registry_(registry),
      options_(std::move(options)),
      io_(std::make_shared<internal::ServerIo>()) {
  size_t threads = options_.threads;
  if (threads == 0) {
    threads = std::max<size_t>(4, 2 * std::max(1u, std::thread::hardware_concurrency()));
  }
  for (size_t i = 0; i < threads; ++i) {
    io_->contexts.push_back(std::make_unique<asio::io_context>(1));
    io_->work.push_back(asio::make_work_guard(*io_->contexts.back()));
  }
  for (size_t i = 0; i < threads; ++i) {
    io_->threads.emplace_back([io = io_, i] { io->contexts[i]->run(); });
  }
}

Server::~Server() { Stop(); }

Result<StringBinding> Server::Listen(const StringBinding& binding) {
  if (stopping_) return Status(E_UNEXPECTED, "the server is stopping");
  COMSEC_ASSIGN_OR_RETURN(Listener l, Listener::Listen(binding));
  const int family = SocketFamily(l.fd());
  const int fd = ::fcntl(l.fd(), F_DUPFD_CLOEXEC, 0);
  if (fd < 0) return Status(RPC_S_CANT_CREATE_ENDPOINT, "cannot duplicate the listening socket");
  auto acceptor = std::make_unique<Acceptor>(*io_->contexts[0]);
  asio::error_code ec;
  acceptor->acceptor.assign(asio::generic::stream_protocol(family, SOCK_STREAM), fd, ec);
  if (ec) {
    ::close(fd);
    return Status(RPC_S_CANT_CREATE_ENDPOINT, "cannot watch the listening socket: " + ec.message());
  }
  acceptor->local = l.local();
  acceptor->secondary = l.binding().endpoint;
  StringBinding bound = l.binding();
  std::lock_guard<std::mutex> lock(mu_);
  listeners_.push_back(std::move(l));
  Acceptor* raw = acceptor.get();
  acceptors_.push_back(std::move(acceptor));
  asio::post(raw->strand, [this, raw] { StartAccept(raw); });
  return bound;
}

Result<std::vector<StringBinding>> Server::ListenAll(const std::vector<std::string>& bindings) {
  std::vector<StringBinding> bound;
  for (const std::string& text : bindings) {
    COMSEC_ASSIGN_OR_RETURN(StringBinding b, StringBinding::Parse(text));
    COMSEC_ASSIGN_OR_RETURN(StringBinding actual, Listen(b));
    bound.push_back(std::move(actual));
  }
  return bound;
}

void Server::StartAccept(Acceptor* acceptor) {
  acceptor->acceptor.async_accept(
      [this, acceptor](const asio::error_code& ec, auto s) {
        if (stopping_ || ec == asio::error::operation_aborted) return;
        if (!ec) {
          const int fd = s.release();
          OnAccepted(acceptor, fd);
        }
        // Descriptors exhausted (EMFILE) and the like: keep accepting; the
        // connection waiting in the backlog is tried again.
        StartAccept(acceptor);
      });
}

void Server::OnAccepted(Acceptor* acceptor, int fd) {
  const bool local = acceptor->local;
  if (!local) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  const std::string address = local ? "" : PeerAddress(fd);
  std::shared_ptr<internal::ServerSession> session;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) {
      ::close(fd);
      return;
    }
    std::string why;
    if (!AdmitLocked(local, address, &why)) {
      // Closing the socket refuses the connection. Logged once per burst,
      // so that a flood does not flood the log too.
      if (!why.empty()) {
        const std::string who = local ? std::string("ncalrpc callers") : address;
        if (options_.logger) {
          LogEvent e("rpc.connection_refused", LogSeverity::kWarning,
                     "refusing connections from " + who + ": " + why + " already served");
          if (!local) e.Peer(address);
          options_.logger->Log(e.Reason(why + " already served"));
        }
      }
      ::close(fd);  // after the event: a peer that sees the close finds it logged
      return;
    }
    ++active_;
    asio::generic::stream_protocol::socket socket(io_->Next());
    asio::error_code ec;
    socket.assign(asio::generic::stream_protocol(SocketFamily(fd), SOCK_STREAM), fd, ec);
    session = std::make_shared<internal::ServerSession>(this, std::move(socket), local, address,
                                                        acceptor->secondary);
    sessions_.insert(session);
  }
  session->Start();
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

void Server::Release(const std::shared_ptr<internal::ServerSession>& session, bool local,
                     const std::string& address) {
  std::lock_guard<std::mutex> lock(mu_);
  if (sessions_.erase(session) == 0) return;
  if (local) {
    --local_active_;
  } else {
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second.active == 0) per_address_.erase(it);
    --tcp_active_;
  }
  --active_;
}

void Server::Stop() {
  if (stopping_.exchange(true)) return;
  std::vector<std::shared_ptr<internal::ServerSession>> sessions;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& a : acceptors_) {
      Acceptor* raw = a.get();
      asio::post(raw->strand, [raw] {
        asio::error_code ignored;
        raw->acceptor.close(ignored);
      });
    }
    sessions.assign(sessions_.begin(), sessions_.end());
  }
  for (auto& s : sessions) s->Close();
  sessions.clear();
  // Once every socket and acceptor is closed the pool runs out of work.
  io_->work.clear();
  for (auto& t : io_->threads) t.join();
  io_->threads.clear();
  std::lock_guard<std::mutex> lock(mu_);
  sessions_.clear();
  acceptors_.clear();
  listeners_.clear();
}

}  // namespace comsec::rpc
