// The interfaces a server offers: an abstract syntax, one handler per
// opnum, a minimum authentication level and an optional security callback.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/ndr/data_rep.h"
#include "comsec/security/token.h"
#include "comsec/rpc/pdu.h"

namespace comsec::rpc {

// What a handler learns about the call it serves.
struct CallContext {
  uint32_t call_id = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;
  // The level this request proved, never more than its association
  // negotiated: the context's level for a request whose verifier checked;
  // RPC_C_AUTHN_LEVEL_CONNECT for a request without a verifier (a CONNECT
  // association, or a CALL/PKT one under
  // ServerOptions::allow_unverified_requests) and for every call of an
  // anonymous logon (its keys derive from no secret, so its signatures
  // prove nothing); RPC_C_AUTHN_LEVEL_NONE when unauthenticated. Minimum
  // levels are enforced on this value, and a handler may trust it.
  uint32_t authn_level = 1;  // RPC_C_AUTHN_LEVEL_NONE
  // The package, as RpcBindingInqAuthClient reports it.
  uint32_t authn_svc = 0;    // RPC_C_AUTHN_NONE
  bool local = false;        // ncalrpc (true) or TCP
  // The authenticated caller (C5), "" when unauthenticated.
  std::string principal;
  // Its token for access checks; null when unauthenticated.
  std::shared_ptr<const security::Token> token;
  // A TCP caller on this machine (a loopback peer address).
  bool loopback = false;
  // The kernel's word on an ncalrpc caller (SO_PEERCRED); empty on TCP.
  bool has_peer = false;
  uint32_t peer_uid = 0;
  uint32_t peer_gid = 0;
  uint32_t peer_pid = 0;
  // The association group the call's connection belongs to; state a
  // handler keeps across calls (context handles) is scoped to it.
  uint32_t assoc_group_id = 0;
  // The request's drep: decode its stub with ndr::Decoder(stub, data_rep).
  ndr::DataRep data_rep;
};

// Thread-safety: a server runs handlers on many connection threads at once;
// every OpHandler and security callback must be safe for that.
// A handler reads the NDR stub and returns the response stub. A failed
// Status becomes a fault: RPC_X_BAD_STUB_DATA → nca_s_fault_ndr,
// E_ACCESSDENIED → 5, other Win32-facility codes → their Win32 value, any
// other HRESULT → itself.
using OpHandler = std::function<Result<std::vector<uint8_t>>(
    std::span<const uint8_t> stub, const CallContext& call)>;

struct InterfaceRegistration {
  SyntaxId syntax;
  std::vector<OpHandler> operations;
  // Calls below this level are refused with fault 0x5 before any stub runs.
  uint32_t min_authn_level = 1;
  // Runs before every call; a failure refuses it with fault 0x5.
  std::function<Status(const CallContext&)> security_callback;
};

// Thread-safety: filled before the server starts, then only read.
class InterfaceRegistry {
 public:
  void Register(InterfaceRegistration registration) {
    interfaces_.push_back(
        std::make_unique<InterfaceRegistration>(std::move(registration)));
  }
  // Same UUID and major version, and the server's minor version at least
  // the client's (C706 2.6: compatible interface versions).
  const InterfaceRegistration* Find(const SyntaxId& requested) const {
    for (const auto& i : interfaces_) {
      if (i->syntax.uuid == requested.uuid &&
          i->syntax.major == requested.major &&
          i->syntax.minor >= requested.minor) {
        return i.get();
      }
    }
    return nullptr;
  }

 private:
  std::vector<std::unique_ptr<InterfaceRegistration>> interfaces_;
};

}  // namespace comsec::rpc
