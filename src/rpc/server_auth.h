// ServerAuth: the authentication contexts of one server connection
// ([MS-RPCE] 3.3.1.5.2, 3.3.3.5): handshakes carried by bind,
// alter_context and auth3, the check of every request's verifier, the
// protection of every response, and what a call proved (CallSecurity).
//
// Invariants: a context keeps the package and level it was created with;
// a request is dispatched only under a complete context whose type and
// level its verifier repeats (Badlock, CVE-2021-1678 lessons); a request
// without a verifier runs only under a CONNECT bind context (or, weakened
// on purpose, allow_unverified_requests at CALL/PKT). Limits: at most
// max_auth_contexts contexts, of which max_unfinished_auth_contexts still
// in their handshake (case 22).
//
// Thread affinity: the connection's thread.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/pdu.h"
#include "comsec/rpc/pdu_protection.h"
#include "comsec/rpc/security_package.h"

namespace comsec::rpc {

// How the connection answers a violation: bind_nak (for a bind) or a
// fault, then it closes.
struct Refusal {
  bool bind_nak = false;
  uint16_t nak_reason = 0;
  uint32_t fault_status = 0;
  uint16_t context_id = 0;
  // Samba sets PFC_DID_NOT_EXECUTE on most faults but not on those for a
  // request whose verifier (or auth state) fails; we follow it.
  bool did_not_execute = true;
  std::string why;
};

// A fault refusal (not a bind_nak).
Refusal FaultRefusal(uint32_t status, std::string why, uint16_t context_id = 0,
                     bool did_not_execute = true);

// The authentication one request travels under.
struct RequestAuth {
  bool authenticated = false;
  uint32_t context_id = 0;
  uint8_t type = 0;
  security::AuthnLevel level = security::AuthnLevel::kNone;
  // Without a verifier (a CONNECT association, or CALL/PKT under
  // allow_unverified_requests): it had only CONNECT's protection, and its
  // response carries no verifier either.
  bool unsigned_request = false;

  bool operator==(const RequestAuth&) const = default;
};

struct ServerAuthOptions {
  const SecurityPackageRegistry* packages = nullptr;
  size_t max_auth_contexts = 2049;
  size_t max_unfinished_auth_contexts = 8;
  bool allow_unverified_requests = false;
  ConnectionInfo connection;
  // Notable events: a weakened setting in use (rpc.weak_setting). Null
  // logs nothing; must outlive the ServerAuth.
  const Logger* logger = nullptr;
};

class ServerAuth {
 public:
  explicit ServerAuth(ServerAuthOptions options) : options_(std::move(options)) {}

  // One leg carried by a bind or alter_context: the reply's verifier, or
  // false with the refusal. `*bind_context_completed` tells whether the
  // bind's own context completed with this leg.
  bool Step(const SecTrailer& t, bool bind, uint32_t call_id, SecTrailer* reply,
            Refusal* refusal, bool* bind_context_completed);
  // auth3 has no reply, not even for a refusal: nullopt when accepted,
  // else why it was refused (the connection answers the next PDU).
  // Refusal is set instead for a protocol violation (answered at once).
  bool Auth3(const SecTrailer& t, std::optional<std::string>* refused,
             Refusal* refusal, bool* bind_context_completed);
  // Checks a request fragment's verifier and returns its stub (unsealed
  // when private) and the authentication it ran under.
  bool CheckRequest(std::span<const uint8_t> fragment, const Pdu& pdu,
                    bool header_signing, RequestAuth* auth, std::vector<uint8_t>* stub, Refusal* refusal);

  // What a call under `auth` proved.
  CallSecurity SecurityFor(const RequestAuth& auth) const;
  // How its response is protected.
  PduAuth ProtectionFor(const RequestAuth& auth, bool header_signing);

  bool any() const { return !contexts_.empty(); }
  bool handshake_pending() const { return unfinished_ > 0; }
  std::optional<uint32_t> bind_context() const { return bind_context_; }
  bool BindContextComplete() const;
  // Who this connection authenticated as at bind, for association groups:
  // "package P, <user SID or name>", or "unauthenticated".
  std::string PrincipalKey() const;

 private:
  struct Context {
    uint8_t type = 0;
    security::AuthnLevel level = security::AuthnLevel::kNone;
    std::unique_ptr<SecurityContext> context;
    // Complete, and no longer counted in unfinished_.
    bool complete = false;
  };
  using Contexts = std::map<uint32_t, Context>;

  void NoteIfComplete(Context& c);
  void Drop(Contexts::iterator it);

  ServerAuthOptions options_;
  Contexts contexts_;
  size_t unfinished_ = 0;
  // The context the bind established; requests without a verifier use it
  // when its level allows that (CONNECT).
  std::optional<uint32_t> bind_context_;
  // Logged once per connection: unsigned requests at CALL or PKT served
  // because allow_unverified_requests is set.
  bool warned_unsigned_ = false;
};

}  // namespace comsec::rpc
