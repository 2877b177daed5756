// One end of a transport connection as the kernel names it, in structured
// form: an IP address and port for ncacn_ip_tcp, a socket path and a
// process for ncalrpc. Two endpoints compare equal exactly when they name
// the same end, which is what the NTLM reflection check (MS08-068,
// auth/ntlm/reflection_registry.h) needs to tell "the connection our client
// received this challenge on" from any other; the human-readable strings of
// ConnectionInfo (rpc/security_package.h) stay for logs.
//
// A value type: copyable, no virtual methods.
#pragma once

#include <array>
#include <cstdint>
#include <string>

namespace comsec::rpc {

struct TransportEndpoint {
  enum class Family : uint8_t {
    kUnknown,  // not learnt (the descriptor was gone, or nobody filled it in)
    kIpv4,
    kIpv6,
    kUnix,  // ncalrpc
  };
  Family family = Family::kUnknown;
  // kIpv4: the address in the first 4 bytes, the rest zero; kIpv6: all 16.
  // An IPv4-mapped IPv6 address (::ffff:a.b.c.d, what a dual-stack listener
  // sees of an IPv4 peer) is stored as kIpv4, so that both ends of one
  // connection name it alike.
  std::array<uint8_t, 16> address{};
  uint16_t port = 0;  // host order; 0 for kUnix
  // kUnix: the socket's path as bound (empty for the unnamed end a client
  // connects from), and the process at this end: getpid() for our own end,
  // the kernel's SO_PEERCRED for the peer's.
  std::string path;
  uint32_t pid = 0;

  bool known() const { return family != Family::kUnknown; }
  // "127.0.0.1:50312", "[::1]:50312", "unix:/run/comsec/epmapper pid 42",
  // "unix:(unnamed) pid 42", or "unknown"; for tests and logs.
  std::string ToString() const;

  friend bool operator==(const TransportEndpoint&, const TransportEndpoint&) = default;
};

}  // namespace comsec::rpc
