// Protocol towers (C706 appendix L; [MS-RPCE] 2.2.1.2): how the endpoint
// mapper describes where an interface listens. A tower is a floor count and
// floors, each a left-hand side (protocol id and data) and a right-hand
// side (address data), all lengths little-endian, TCP ports big-endian.
//
//   floor 1  0x0D interface uuid + major     | minor
//   floor 2  0x0D transfer syntax + major    | minor
//   floor 3  0x0B connection-oriented RPC    | minor version 0
//   floor 4  0x07 TCP port (big-endian)      or 0x10 ncalrpc endpoint name
//   floor 5  0x09 IPv4 address               (TCP only)
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/pdu.h"

namespace comsec::rpc {

struct Tower {
  SyntaxId interface;
  SyntaxId transfer_syntax;
  std::string protseq;   // "ncacn_ip_tcp" or "ncalrpc"
  std::string endpoint;  // port number or socket path
  std::string address;   // dotted IPv4 for TCP; "" otherwise

  static Result<Tower> Decode(std::span<const uint8_t> bytes);
  std::vector<uint8_t> Encode() const;
  StringBinding ToBinding() const;
};

}  // namespace comsec::rpc
