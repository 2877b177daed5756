#include "comsec/rpc/tower.h"

#include <arpa/inet.h>

#include <charconv>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

constexpr uint8_t kUuidId = 0x0D;
constexpr uint8_t kRpcCoId = 0x0B;
constexpr uint8_t kTcpId = 0x07;
constexpr uint8_t kIpId = 0x09;
constexpr uint8_t kLrpcId = 0x10;

struct Floor {
  std::span<const uint8_t> lhs;
  std::span<const uint8_t> rhs;
};

Status Bad(const std::string& why) {
  return Status(RPC_X_BAD_STUB_DATA, "tower: " + why);
}

Result<SyntaxId> SyntaxFloor(const Floor& f) {
  if (f.lhs.size() != 19 || f.lhs[0] != kUuidId || f.rhs.size() != 2) {
    return Bad("a UUID floor must be 19 + 2 bytes with id 0x0D");
  }
  SyntaxId s;
  s.uuid = Guid::FromBytes(f.lhs.data() + 1);
  s.major = static_cast<uint16_t>(f.lhs[17] | f.lhs[18] << 8);
  s.minor = static_cast<uint16_t>(f.rhs[0] | f.rhs[1] << 8);
  return s;
}

void WriteFloor(ByteWriter& w, std::span<const uint8_t> lhs,
                std::span<const uint8_t> rhs) {
  w.U16Le(static_cast<uint16_t>(lhs.size()));
  w.Bytes(lhs);
  w.U16Le(static_cast<uint16_t>(rhs.size()));
  w.Bytes(rhs);
}

void WriteSyntaxFloor(ByteWriter& w, const SyntaxId& s) {
  std::vector<uint8_t> lhs = {kUuidId};
  auto b = s.uuid.ToBytes();
  lhs.insert(lhs.end(), b.begin(), b.end());
  lhs.push_back(static_cast<uint8_t>(s.major));
  lhs.push_back(static_cast<uint8_t>(s.major >> 8));
  uint8_t rhs[2] = {static_cast<uint8_t>(s.minor), static_cast<uint8_t>(s.minor >> 8)};
  WriteFloor(w, lhs, rhs);
}

}  // namespace

Result<Tower> Tower::Decode(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "tower");
  COMSEC_ASSIGN_OR_RETURN(uint16_t count, r.U16Le());
  if (count < 4 || count > 8) return Bad("unexpected floor count " + std::to_string(count));
  std::vector<Floor> floors;
  for (uint16_t i = 0; i < count; ++i) {
    Floor f;
    COMSEC_ASSIGN_OR_RETURN(uint16_t l, r.U16Le());
    if (l == 0) return Bad("empty protocol identifier");
    COMSEC_ASSIGN_OR_RETURN(f.lhs, r.Bytes(l));
    COMSEC_ASSIGN_OR_RETURN(uint16_t n, r.U16Le());
    COMSEC_ASSIGN_OR_RETURN(f.rhs, r.Bytes(n));
    floors.push_back(f);
  }
  Tower t;
  COMSEC_ASSIGN_OR_RETURN(t.interface, SyntaxFloor(floors[0]));
  COMSEC_ASSIGN_OR_RETURN(t.transfer_syntax, SyntaxFloor(floors[1]));
  if (floors[2].lhs.size() != 1 || floors[2].lhs[0] != kRpcCoId) {
    return Bad("floor 3 is not connection-oriented RPC");
  }
  const Floor& f4 = floors[3];
  if (f4.lhs.size() != 1) return Bad("floor 4 protocol id is not one byte");
  if (f4.lhs[0] == kTcpId) {
    t.protseq = "ncacn_ip_tcp";
    if (f4.rhs.size() != 2) return Bad("a TCP port floor holds 2 bytes");
    t.endpoint = std::to_string(f4.rhs[0] << 8 | f4.rhs[1]);
    if (count >= 5 && floors[4].lhs.size() == 1 && floors[4].lhs[0] == kIpId &&
        floors[4].rhs.size() == 4) {
      char buf[INET_ADDRSTRLEN];
      inet_ntop(AF_INET, floors[4].rhs.data(), buf, sizeof buf);
      t.address = buf;
    }
  } else if (f4.lhs[0] == kLrpcId) {
    t.protseq = "ncalrpc";
    std::string name(f4.rhs.begin(), f4.rhs.end());
    while (!name.empty() && name.back() == '\0') name.pop_back();
    t.endpoint = name;
  } else {
    return Bad("floor 4 protocol 0x" + std::to_string(f4.lhs[0]) + " is not supported");
  }
  return t;
}

std::vector<uint8_t> Tower::Encode() const {
  ByteWriter w;
  const bool tcp = protseq == "ncacn_ip_tcp";
  w.U16Le(tcp ? 5 : 4);
  WriteSyntaxFloor(w, interface);
  WriteSyntaxFloor(w, transfer_syntax);
  const uint8_t co[1] = {kRpcCoId};
  const uint8_t zero[2] = {0, 0};
  WriteFloor(w, co, zero);
  if (tcp) {
    unsigned port = 0;
    std::from_chars(endpoint.data(), endpoint.data() + endpoint.size(), port);
    const uint8_t id[1] = {kTcpId};
    const uint8_t p[2] = {static_cast<uint8_t>(port >> 8), static_cast<uint8_t>(port)};
    WriteFloor(w, id, p);
    uint8_t ip[4] = {0, 0, 0, 0};
    if (!address.empty()) inet_pton(AF_INET, address.c_str(), ip);
    const uint8_t ipid[1] = {kIpId};
    WriteFloor(w, ipid, ip);
  } else {
    const uint8_t id[1] = {kLrpcId};
    std::vector<uint8_t> name(endpoint.begin(), endpoint.end());
    name.push_back(0);
    WriteFloor(w, id, name);
  }
  return std::move(w).Take();
}

StringBinding Tower::ToBinding() const {
  StringBinding b;
  b.protseq = protseq;
  b.address = protseq == "ncacn_ip_tcp" ? address : "";
  b.endpoint = endpoint;
  return b;
}

}  // namespace comsec::rpc
