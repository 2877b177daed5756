// The call seam: the interfaces a server offers (an abstract syntax, a
// minimum authentication level, an optional security callback) and how a
// call reaches them — as an IncomingCall carrying the object UUID, the
// interface, the opnum, the sender's data representation, the stub and the
// call's security, answered through a CallResponder from any thread at any
// later time (an STA's thread, a worker pool), or by a synchronous
// OpHandler for interfaces whose operations answer at once.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/ndr/data_rep.h"
#include "comsec/rpc/pdu.h"
#include "comsec/rpc/security_package.h"
#include "comsec/security/token.h"

namespace comsec::rpc {

// RPC_E_SERVERFAULT: a server method failed unexpectedly (threw); the
// client sees this HRESULT as the fault status (conformance case 41).
inline constexpr HResult RPC_E_SERVERFAULT{0x80010105u};

// Who made a call and how it was protected: what RpcBindingInqAuthClient
// and CoQueryClientBlanket report, and what access checks use. Shared by
// every call of one authentication context; safe to copy and to keep.
struct CallSecurity {
  // The level this request proved, never more than its association
  // negotiated: the context's level for a request whose verifier checked;
  // RPC_C_AUTHN_LEVEL_CONNECT for a request without a verifier (a CONNECT
  // association, or a CALL/PKT one under
  // ServerOptions::allow_unverified_requests) and for every call of an
  // anonymous logon (its keys derive from no secret, so its signatures
  // prove nothing); RPC_C_AUTHN_LEVEL_NONE when unauthenticated. Minimum
  // levels are enforced on this value, and a handler may trust it.
  security::AuthnLevel authn_level = security::AuthnLevel::kNone;
  // The package, as RpcBindingInqAuthClient reports it.
  uint32_t authn_svc = RPC_C_AUTHN_NONE;
  // The impersonation level the client granted (IDENTIFY when it asked
  // the package for identification only).
  security::ImpLevel imp_level = security::ImpLevel::kAnonymous;
  // The authenticated caller (C5), "" when unauthenticated.
  std::string principal;
  // Its token for access checks; null when unauthenticated.
  std::shared_ptr<const security::Token> token;
  // What the COM layer impersonates with and passes onward: credentials
  // the client delegated (Kerberos), null when it did not.
  std::shared_ptr<const DelegatedCredentials> delegated;
  // The package's own account of the caller (SecurityContext::Evidence:
  // a TLS caller's certificate names, R52); null when it has none.
  std::shared_ptr<const PeerEvidence> peer_evidence;
};

// What a handler learns about the call it serves.
struct CallContext {
  uint32_t call_id = 0;
  uint16_t context_id = 0;
  uint16_t opnum = 0;
  // The request's object UUID (PFC_OBJECT_UUID): COM's IPID.
  std::optional<Guid> object;
  // The interface the presentation context names.
  SyntaxId interface;
  // The sender's data representation: the stub is decoded with it.
  ndr::DataRep data_rep;
  CallSecurity security;
  bool local = false;  // ncalrpc (true) or TCP
  // A TCP caller on this machine (a loopback peer address).
  bool loopback = false;
  // How logs name the caller's connection ("127.0.0.1:50312").
  std::string peer;
  // The kernel's word on an ncalrpc caller (SO_PEERCRED); empty on TCP.
  bool has_peer = false;
  uint32_t peer_uid = 0;
  uint32_t peer_gid = 0;
  uint32_t peer_pid = 0;
  // The association group the call's connection belongs to; state a
  // handler keeps across calls (context handles) is scoped to it.
  uint32_t assoc_group_id = 0;
  // Where the operation's [in] parameters start in the stub: after
  // ORPCTHIS in a COM call, whose length the caller chose. NDR alignment
  // stays relative to the stub's start.
  size_t stub_offset = 0;
};

namespace internal {
class CallCompletions;
}  // namespace internal

// The answer to one call: Reply or Fail, once, from any thread, at any
// time. A responder destroyed unanswered fails its call with
// RPC_E_SERVERFAULT, so a client is never left waiting. Answering after
// the connection closed does nothing.
//
// Thread-safety: movable, not copyable; one owner answers it.
class CallResponder {
 public:
  CallResponder() = default;
  CallResponder(std::shared_ptr<internal::CallCompletions> completions,
                uint32_t call_id);
  ~CallResponder();
  CallResponder(CallResponder&&) noexcept;
  CallResponder& operator=(CallResponder&&) noexcept;
  CallResponder(const CallResponder&) = delete;
  CallResponder& operator=(const CallResponder&) = delete;

  void Reply(std::vector<uint8_t> stub) { Finish(std::move(stub)); }
  // The failure becomes a fault: RPC_X_BAD_STUB_DATA → nca_s_fault_ndr,
  // E_ACCESSDENIED → 5, other Win32-facility codes → their Win32 value,
  // any other HRESULT → itself.
  void Fail(Status status) { Finish(std::move(status)); }
  void Finish(Result<std::vector<uint8_t>> result);
  bool answered() const { return completions_ == nullptr; }

 private:
  std::shared_ptr<internal::CallCompletions> completions_;
  uint32_t call_id_ = 0;
};

// A response as a caller receives it: the stub and the data representation
// the server encoded it in (generated proxies decode with it, C706 14.2).
struct CallReply {
  std::vector<uint8_t> stub;
  ndr::DataRep data_rep;
  // Where the operation's [out] parameters start: after ORPCTHAT in a COM
  // reply, whose length the server chose. NDR alignment stays relative to
  // the stub's start.
  size_t stub_offset = 0;
};

// A call the server received whole, checked (level, security callback,
// verification trailer) and handed to its interface.
struct IncomingCall {
  CallContext context;
  std::vector<uint8_t> stub;
  CallResponder responder;
};

// Thread-safety: a server runs handlers on many threads at once; every
// handler and security callback must be safe for that.
//
// A synchronous handler reads the NDR stub and returns the response stub,
// on the connection's thread (the connection processes nothing else
// meanwhile). A failed Status becomes a fault as CallResponder::Fail says.
using OpHandler = std::function<Result<std::vector<uint8_t>>(
    std::span<const uint8_t> stub, const CallContext& call)>;
// An asynchronous handler takes every call of its interface (any opnum:
// range checks are its own, see OpnumOutOfRange) and answers through the
// call's responder whenever it likes; it must return promptly.
using AsyncCallHandler = std::function<void(IncomingCall call)>;

// The fault for an opnum the interface does not have (conformance case 9).
Status OpnumOutOfRange(uint16_t opnum);

struct InterfaceRegistration {
  SyntaxId syntax;
  // One handler per opnum, or, when set, async_handler for all of them.
  std::vector<OpHandler> operations;
  AsyncCallHandler async_handler;
  // Calls below this level are refused with fault 0x5 before any stub runs.
  security::AuthnLevel min_authn_level = security::AuthnLevel::kNone;
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
    return resolver_ ? resolver_(requested) : nullptr;
  }

  // Interfaces that exist only once the COM runtime has an object to serve
  // them (each IID, version 0.0): asked when no registered interface
  // matches. The registrations it returns must live as long as the server;
  // it is called from any thread.
  void SetResolver(std::function<const InterfaceRegistration*(const SyntaxId&)> resolver) {
    resolver_ = std::move(resolver);
  }

 private:
  std::vector<std::unique_ptr<InterfaceRegistration>> interfaces_;
  std::function<const InterfaceRegistration*(const SyntaxId&)> resolver_;
};

}  // namespace comsec::rpc
