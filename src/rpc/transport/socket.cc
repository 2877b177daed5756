#include "comsec/rpc/transport/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <chrono>
#include <cstring>

#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

Status Errno(HResult hr, const std::string& what) {
  return Status(hr, what + ": " + std::strerror(errno));
}

Result<sockaddr_un> UnixAddress(const std::string& path) {
  sockaddr_un a{};
  a.sun_family = AF_UNIX;
  if (path.empty() || path.size() >= sizeof a.sun_path) {
    return Status(RPC_S_INVALID_STRING_BINDING,
                  "socket path \"" + path + "\" is empty or too long");
  }
  std::memcpy(a.sun_path, path.data(), path.size());
  return a;
}

}  // namespace

std::string LocalEndpointPath(const std::string& endpoint) {
  if (endpoint.find('/') != std::string::npos) return endpoint;
  return std::string(kLocalEndpointDir) + "/" + endpoint;
}

Socket::~Socket() {
  if (fd_ >= 0) ::close(fd_);
}

Socket& Socket::operator=(Socket&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.fd_;
    o.fd_ = -1;
    leftover_ = std::move(o.leftover_);
    receive_timeout_ms_ = o.receive_timeout_ms_;
  }
  return *this;
}

void Socket::ShutdownBoth() {
  if (fd_ >= 0) ::shutdown(fd_, SHUT_RDWR);
}

namespace {

// connect() with a deadline: non-blocking, then poll for writability and
// read SO_ERROR; the socket is made blocking again on success.
bool ConnectWithin(int fd, const sockaddr* addr, socklen_t len, int timeout_ms) {
  const int flags = ::fcntl(fd, F_GETFL, 0);
  if (flags < 0 || ::fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0) return false;
  int rc = ::connect(fd, addr, len);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    rc = ::poll(&p, 1, timeout_ms);
    if (rc == 0) {
      errno = ETIMEDOUT;
      return false;
    }
    if (rc < 0) return false;
    int err = 0;
    socklen_t err_len = sizeof err;
    if (::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &err_len) != 0) return false;
    if (err != 0) {
      errno = err;
      return false;
    }
    rc = 0;
  }
  if (rc != 0) return false;
  return ::fcntl(fd, F_SETFL, flags) == 0;
}

}  // namespace

Result<Socket> Socket::Connect(const StringBinding& b, int timeout_ms) {
  if (b.IsLocal()) {
    COMSEC_ASSIGN_OR_RETURN(sockaddr_un a, UnixAddress(LocalEndpointPath(b.endpoint)));
    Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return Errno(RPC_S_SERVER_UNAVAILABLE, "socket");
    if (::connect(s.fd(), reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      return Errno(RPC_S_SERVER_UNAVAILABLE, "connect to " + b.ToString());
    }
    return s;
  }
  COMSEC_ASSIGN_OR_RETURN(uint16_t port, b.Port());
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(b.address.c_str(), service.c_str(), &hints, &res);
      rc != 0) {
    return Status(RPC_S_SERVER_UNAVAILABLE,
                  "cannot resolve " + b.address + ": " + gai_strerror(rc));
  }
  Status last(RPC_S_SERVER_UNAVAILABLE, "no address for " + b.address);
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) continue;
    if (ConnectWithin(s.fd(), ai->ai_addr, ai->ai_addrlen, timeout_ms)) {
      int one = 1;
      ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      ::freeaddrinfo(res);
      return s;
    }
    last = Errno(RPC_S_SERVER_UNAVAILABLE, "connect to " + b.ToString());
  }
  ::freeaddrinfo(res);
  return last;
}

Status Socket::WriteAll(std::span<const uint8_t> bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::send(fd_, bytes.data() + done, bytes.size() - done, MSG_NOSIGNAL);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Errno(RPC_S_CALL_FAILED, "send");
    }
    done += static_cast<size_t>(n);
  }
  return Status();
}

Result<std::vector<uint8_t>> Socket::ReadFragment(int timeout_ms) {
  const int64_t deadline = NowMs() + timeout_ms;
  // Bytes read past the last fragment come first.
  std::vector<uint8_t> buf;
  buf.swap(leftover_);
  // One read takes what the peer sent, usually the whole fragment; an idle
  // socket holds no buffer (the chunk is per thread).
  static thread_local std::array<uint8_t, 65536> chunk;
  for (;;) {
    size_t need = 16;
    if (buf.size() >= 16) {
      const bool le = (buf[4] & 0xF0) == 0x10;
      const size_t frag_length = le ? (buf[8] | buf[9] << 8) : (buf[9] | buf[8] << 8);
      // A frag_length below 16 returns the header alone, for the protocol
      // layer to answer.
      need = std::max<size_t>(frag_length, 16);
    }
    if (buf.size() >= need) {
      if (buf.size() > need) {
        leftover_.assign(buf.begin() + static_cast<ptrdiff_t>(need), buf.end());
        buf.resize(need);
      }
      return buf;
    }
    const int64_t left = deadline - NowMs();
    if (left <= 0) {
      return Status(ERROR_TIMEOUT, "the peer did not send a whole fragment in time");
    }
    // A blocking receive bounded by SO_RCVTIMEO (set once per timeout
    // value) instead of poll then recv: one system call per read.
    if (receive_timeout_ms_ != timeout_ms) {
      timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
      if (::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0) {
        return Errno(RPC_S_CALL_FAILED, "setsockopt(SO_RCVTIMEO)");
      }
      receive_timeout_ms_ = timeout_ms;
    }
    const ssize_t got = ::recv(fd_, chunk.data(), chunk.size(), 0);
    if (got == 0) return Status(RPC_S_CALL_FAILED, "the connection was closed");
    if (got < 0) {
      if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK) continue;
      return Errno(RPC_S_CALL_FAILED, "recv");
    }
    buf.insert(buf.end(), chunk.begin(), chunk.begin() + got);
  }
}

std::optional<PeerCredentials> Socket::Peer() const {
  ucred c{};
  socklen_t len = sizeof c;
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &c, &len) != 0) return std::nullopt;
  sockaddr_storage addr{};
  socklen_t alen = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &alen) != 0 ||
      addr.ss_family != AF_UNIX) {
    return std::nullopt;
  }
  return PeerCredentials{c.pid, c.uid, c.gid};
}

Status Socket::VerifyLocalServer(const std::vector<uint32_t>& trusted_uids) const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 ||
      addr.ss_family != AF_UNIX) {
    return Status();  // TCP: the server proves itself by authenticating
  }
  ucred c{};
  socklen_t clen = sizeof c;
  if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &c, &clen) != 0) {
    return Errno(SEC_E_WRONG_PRINCIPAL, "cannot learn who serves the ncalrpc socket");
  }
  std::vector<uint32_t> trusted = trusted_uids;
  if (trusted.empty()) {
    trusted = {0};
    if (::geteuid() != 0) trusted.push_back(static_cast<uint32_t>(::geteuid()));
  }
  for (uint32_t uid : trusted) {
    if (c.uid == uid) return Status();
  }
  std::string expected;
  for (uint32_t uid : trusted) {
    expected += (expected.empty() ? "" : " or ") + std::to_string(uid);
  }
  return Status(SEC_E_WRONG_PRINCIPAL,
                "the ncalrpc server is process " + std::to_string(c.pid) + " running as uid " +
                    std::to_string(c.uid) + ", not the expected uid " + expected +
                    "; another user may have put an impostor at this endpoint");
}

bool Socket::PeerClosed() const {
  if (!leftover_.empty()) return false;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, 0) <= 0) return false;
  if (p.revents & (POLLHUP | POLLERR)) return true;
  uint8_t byte;
  ssize_t n = ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

bool Socket::IsLoopbackPeer() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return false;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    return (ntohl(a->sin_addr.s_addr) >> 24) == 127;
  }
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    if (IN6_IS_ADDR_LOOPBACK(&a->sin6_addr)) return true;
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) return a->sin6_addr.s6_addr[12] == 127;
  }
  return false;
}

namespace {

// "127.0.0.1:50312" or "[::1]:50312"; "" for a non-IP address.
std::string DescribeIpAddress(const sockaddr_storage& addr) {
  char text[INET6_ADDRSTRLEN] = {};
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    ::inet_ntop(AF_INET, &a->sin_addr, text, sizeof text);
    return std::string(text) + ":" + std::to_string(ntohs(a->sin_port));
  }
  if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    ::inet_ntop(AF_INET6, &a->sin6_addr, text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(ntohs(a->sin6_port));
  }
  return "";
}

std::string DescribeLocalProcess(pid_t pid, uid_t uid) {
  return "ncalrpc pid " + std::to_string(pid) + " uid " + std::to_string(uid);
}

}  // namespace

std::string Socket::PeerDescription() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    return "an unknown peer";
  }
  if (std::string ip = DescribeIpAddress(addr); !ip.empty()) return ip;
  if (auto p = Peer()) return DescribeLocalProcess(p->pid, p->uid);
  return "an ncalrpc peer";
}

namespace {

// The IP or Unix-domain address the kernel gave; `pid` is the process at
// that end, for a Unix-domain one.
TransportEndpoint EndpointOf(const sockaddr_storage& addr, socklen_t len, pid_t pid) {
  TransportEndpoint e;
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    e.family = TransportEndpoint::Family::kIpv4;
    std::memcpy(e.address.data(), &a->sin_addr, 4);
    e.port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    e.port = ntohs(a->sin6_port);
    if (IN6_IS_ADDR_V4MAPPED(&a->sin6_addr)) {
      // The IPv4 peer of a dual-stack listener: named as its own end names it.
      e.family = TransportEndpoint::Family::kIpv4;
      std::memcpy(e.address.data(), a->sin6_addr.s6_addr + 12, 4);
    } else {
      e.family = TransportEndpoint::Family::kIpv6;
      std::memcpy(e.address.data(), a->sin6_addr.s6_addr, 16);
    }
  } else if (addr.ss_family == AF_UNIX) {
    auto* a = reinterpret_cast<const sockaddr_un*>(&addr);
    e.family = TransportEndpoint::Family::kUnix;
    const size_t offset = offsetof(sockaddr_un, sun_path);
    if (len > offset) {
      const size_t n = std::min<size_t>(len - offset, sizeof a->sun_path);
      if (a->sun_path[0] == '\0') {
        // Abstract: every byte counts, the leading NUL kept so that the
        // path differs from a file's.
        e.path.assign(a->sun_path, n);
      } else {
        e.path.assign(a->sun_path, ::strnlen(a->sun_path, n));
      }
    }
    e.pid = static_cast<uint32_t>(pid);
  }
  return e;
}

}  // namespace

TransportEndpoint Socket::LocalEndpoint() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  return EndpointOf(addr, len, ::getpid());
}

TransportEndpoint Socket::PeerEndpoint() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getpeername(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return {};
  pid_t pid = 0;
  if (addr.ss_family == AF_UNIX) {
    ucred c{};
    socklen_t clen = sizeof c;
    if (::getsockopt(fd_, SOL_SOCKET, SO_PEERCRED, &c, &clen) != 0) return {};
    pid = c.pid;
  }
  return EndpointOf(addr, len, pid);
}

std::string Socket::LocalDescription() const {
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "";
  if (std::string ip = DescribeIpAddress(addr); !ip.empty()) return ip;
  return DescribeLocalProcess(::getpid(), ::getuid());
}

namespace {

Status Unsafe(const std::string& dir, const std::string& why) {
  return Status(RPC_S_CANT_CREATE_ENDPOINT,
                "will not create an ncalrpc socket in " + dir + ": " + why +
                    "; use a directory that only root or this server's user may write, "
                    "such as " + kLocalEndpointDir);
}

// The socket's directory: created 0755 when missing (mode set explicitly,
// whatever the umask); refused when another user owns it or anyone but its
// owner may write to it, since whoever can write there can replace the
// socket with their own.
Status PrepareLocalEndpointDir(const std::string& dir) {
  struct stat st{};
  if (::stat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT) return Errno(RPC_S_CANT_CREATE_ENDPOINT, "stat " + dir);
    if (::mkdir(dir.c_str(), 0755) == 0) {
      // Ours: the mode is set again, as mkdir applied the umask to it.
      if (::chmod(dir.c_str(), 0755) != 0) return Errno(RPC_S_CANT_CREATE_ENDPOINT, "chmod " + dir);
    } else if (errno != EEXIST) {
      return Errno(RPC_S_CANT_CREATE_ENDPOINT, "create " + dir);
    }
    if (::stat(dir.c_str(), &st) != 0) return Errno(RPC_S_CANT_CREATE_ENDPOINT, "stat " + dir);
  }
  if (!S_ISDIR(st.st_mode)) return Unsafe(dir, "it is not a directory");
  if (st.st_uid != 0 && st.st_uid != ::geteuid()) {
    return Unsafe(dir, "it belongs to uid " + std::to_string(st.st_uid) +
                           ", neither root nor this server's uid " +
                           std::to_string(::geteuid()));
  }
  if (st.st_mode & (S_IWGRP | S_IWOTH)) {
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return Unsafe(dir, std::string("its mode ") + mode + " lets group or others write to it");
  }
  return Status();
}

// The socket mode from the binding's `mode=0NNN` option.
Result<unsigned> LocalEndpointMode(const StringBinding& b) {
  unsigned mode = kDefaultLocalEndpointMode;
  for (const auto& [name, value] : b.options) {
    if (name != "mode") continue;
    char* end = nullptr;
    unsigned long m = std::strtoul(value.c_str(), &end, 8);
    if (value.empty() || *end != '\0' || m > 0777) {
      return Status(RPC_S_INVALID_STRING_BINDING,
                    "mode=" + value + " is not an octal file mode 0000-0777");
    }
    mode = static_cast<unsigned>(m);
  }
  return mode;
}

// True when a server answers at `path` (a live endpoint, not a stale file).
bool SomeoneListens(const sockaddr_un& a) {
  Socket probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  return probe.valid() &&
         ::connect(probe.fd(), reinterpret_cast<const sockaddr*>(&a), sizeof a) == 0;
}

}  // namespace

Result<Listener> Listener::Listen(const StringBinding& binding) {
  StringBinding b = binding;
  if (b.IsLocal()) {
    const std::string path = LocalEndpointPath(b.endpoint);
    COMSEC_ASSIGN_OR_RETURN(sockaddr_un a, UnixAddress(path));
    COMSEC_ASSIGN_OR_RETURN(unsigned mode, LocalEndpointMode(b));
    const size_t slash = path.rfind('/');
    const std::string dir = slash == 0 ? "/" : path.substr(0, slash);
    COMSEC_RETURN_IF_ERROR(PrepareLocalEndpointDir(dir));
    Socket s(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!s.valid()) return Errno(RPC_S_CANT_CREATE_ENDPOINT, "socket");
    // A socket file left by a previous run would make bind fail; one that
    // still answers belongs to a running server and is left alone.
    struct stat st{};
    if (::lstat(path.c_str(), &st) == 0 && S_ISSOCK(st.st_mode)) {
      if (SomeoneListens(a)) {
        return Status(RPC_S_DUPLICATE_ENDPOINT,
                      "another server is already listening on " + b.ToString());
      }
      ::unlink(path.c_str());
    }
    // Bound under a temporary name, given its mode, then renamed into place:
    // no client ever sees the socket with the umask's mode.
    const std::string temp = path + "." + std::to_string(::getpid()) + ".new";
    const bool staged = temp.size() < sizeof a.sun_path;
    sockaddr_un bind_addr = a;
    if (staged) {
      COMSEC_ASSIGN_OR_RETURN(bind_addr, UnixAddress(temp));
      ::unlink(temp.c_str());
    }
    const std::string& bound = staged ? temp : path;
    if (::bind(s.fd(), reinterpret_cast<sockaddr*>(&bind_addr), sizeof bind_addr) != 0 ||
        ::listen(s.fd(), 64) != 0) {
      return Errno(RPC_S_CANT_CREATE_ENDPOINT, "listen on " + b.ToString());
    }
    if (::chmod(bound.c_str(), mode) != 0 ||
        (staged && ::rename(temp.c_str(), path.c_str()) != 0)) {
      Status failed = Errno(RPC_S_CANT_CREATE_ENDPOINT, "create " + path);
      ::unlink(bound.c_str());
      return failed;
    }
    return Listener(std::move(s), b);
  }
  uint16_t port = 0;
  if (!b.endpoint.empty() && b.endpoint != "0") {
    COMSEC_ASSIGN_OR_RETURN(port, b.Port());
  }
  addrinfo hints{};
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  std::string service = std::to_string(port);
  if (int rc = ::getaddrinfo(b.address.c_str(), service.c_str(), &hints, &res); rc != 0) {
    return Status(RPC_S_CANT_CREATE_ENDPOINT,
                  "cannot resolve " + b.address + ": " + gai_strerror(rc));
  }
  Socket s(::socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0));
  int one = 1;
  ::setsockopt(s.fd(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc = ::bind(s.fd(), res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (rc != 0 || ::listen(s.fd(), 128) != 0) {
    return Errno(RPC_S_CANT_CREATE_ENDPOINT, "listen on " + b.ToString());
  }
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  ::getsockname(s.fd(), reinterpret_cast<sockaddr*>(&addr), &len);
  uint16_t actual = addr.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&addr)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&addr)->sin_port);
  b.endpoint = std::to_string(actual);
  return Listener(std::move(s), b);
}

Result<std::optional<Socket>> Listener::Accept(int timeout_ms) {
  pollfd p{socket_.fd(), POLLIN, 0};
  int rc = ::poll(&p, 1, timeout_ms);
  if (rc < 0 && errno != EINTR) return Errno(RPC_S_CALL_FAILED, "poll");
  if (rc <= 0) return std::optional<Socket>();
  int fd = ::accept4(socket_.fd(), nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) {
    if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) {
      return std::optional<Socket>();
    }
    return Errno(RPC_S_CALL_FAILED, "accept");
  }
  if (!local()) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  }
  return std::optional<Socket>(Socket(fd));
}

}  // namespace comsec::rpc
