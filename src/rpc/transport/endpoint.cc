#include "comsec/rpc/transport/endpoint.h"

#include <arpa/inet.h>

namespace comsec::rpc {

std::string TransportEndpoint::ToString() const {
  char text[INET6_ADDRSTRLEN] = {};
  switch (family) {
    case Family::kIpv4:
      ::inet_ntop(AF_INET, address.data(), text, sizeof text);
      return std::string(text) + ":" + std::to_string(port);
    case Family::kIpv6:
      ::inet_ntop(AF_INET6, address.data(), text, sizeof text);
      return "[" + std::string(text) + "]:" + std::to_string(port);
    case Family::kUnix:
      return "unix:" + (path.empty() ? std::string("(unnamed)") : path) + " pid " +
             std::to_string(pid);
    case Family::kUnknown:
      break;
  }
  return "unknown";
}

}  // namespace comsec::rpc
