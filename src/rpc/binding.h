// String bindings ([MS-RPCE] 2.1.1.1, C706 appendix H):
//   [object-uuid@]protseq:network-address[endpoint,option=value,...]
//   ncacn_ip_tcp:127.0.0.1[1350]     ncacn_ip_tcp:::1[1350]
//   ncalrpc:[/run/comsec/epmapper]    ncalrpc:/run/comsec/epmapper
// comsec speaks ncacn_ip_tcp (IPv4 and IPv6) and ncalrpc (Unix-domain
// stream sockets). For ncalrpc the endpoint is the socket path, and the
// bracket-less form names it directly.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/base/win32_error.h"

namespace comsec::rpc {

struct StringBinding {
  std::optional<Guid> object;
  std::string protseq;   // "ncacn_ip_tcp" or "ncalrpc"
  std::string address;   // host name or IP; empty for ncalrpc
  std::string endpoint;  // TCP port or socket path; empty = dynamic
  std::vector<std::pair<std::string, std::string>> options;

  static Result<StringBinding> Parse(std::string_view text);
  // The canonical form: "ncacn_ip_tcp:127.0.0.1[1350]",
  // "ncalrpc:[/run/comsec/x]".
  std::string ToString() const;

  bool IsTcp() const { return protseq == "ncacn_ip_tcp"; }
  bool IsLocal() const { return protseq == "ncalrpc"; }
  // The TCP port; E_INVALIDARG-class error when the endpoint is not 1-65535.
  Result<uint16_t> Port() const;
};

}  // namespace comsec::rpc
