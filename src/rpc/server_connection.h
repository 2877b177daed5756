// ServerConnection: the server side of one connection-oriented association
// as a pure state machine — fragments in, fragments out — so that every
// protocol rule is tested without sockets (the idea of Cap'n Proto's
// TestNetwork). The transport frames fragments by frag_length and sends
// what OnFragment produces; when OnFragment returns false it closes the
// connection after sending.
//
// Implements bind and alter_context with presentation-context negotiation
// (NDR20; NDR64 refused; bind-time feature negotiation answered), fragment
// size negotiation, request reassembly within limits, dispatch by context
// and opnum, response fragmentation, and the faults and bind_nak reasons
// of C706 / [MS-RPCE] for every protocol violation (conformance cases 1–16).
// Calls are reassembled one at a time unless the bind negotiates
// PFC_CONC_MPX; then interleaved fragments of several calls reassemble
// separately (bounded in number and in total bytes) and each call runs when
// its last fragment arrives. Verifiers are checked per fragment through the
// security packages the server offers; a request on an association
// authenticated at CALL or above must carry one (see
// AllowUnverifiedRequests), and a handler is told the level its request
// proved. Before the bind only a bind is accepted (bind_nak reason 4
// otherwise). A refused auth3 gets no reply; the next PDU gets fault access
// denied and the connection closes.
//
// Memory bound. What one connection can make the server hold is bounded by
// ServerLimits, each refused at its cap as Windows and Samba refuse it:
//   reassembly         max_request_bytes (4 MiB) over every call in progress,
//                      in at most max_concurrent_calls (64) calls
//                      (fault 0x5 / nca_s_proto_error + close; cases 12, 13);
//   one fragment       max_recv_frag (5840 bytes), read by the transport;
//   presentation ctxs  max_presentation_contexts (256) × ~100 bytes
//                      (more are rejected: provider_rejection, reason 3
//                      local_limit_exceeded; the connection stays);
//   unfinished auth    max_unfinished_auth_contexts (8) handshakes, each
//                      holding at most its package's messages so far, about
//                      two fragments (NTLM keeps NEGOTIATE and CHALLENGE for
//                      the MIC) (a ninth: nca_s_proto_error + close);
//   completed auth     max_auth_contexts (2049) contexts, each its package's
//                      keys and names (about 1 KiB for NTLM, plus the
//                      handshake's messages), reachable only by a peer that
//                      authenticates (case 22: nca_s_proto_error + close).
// So a peer that has not authenticated holds at most about 4.2 MiB per
// connection (4 MiB + 5840 + 8 × 12 KiB + 25 KiB); the server's
// connection limits bound the connections (ServerOptions).
//
// Thread affinity: one thread per connection; the registry must outlive it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/rpc/association_group.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/security_package.h"

namespace comsec::rpc {

struct ServerLimits {
  // Largest fragment this server receives; bind negotiates down from it.
  uint16_t max_recv_frag = 5840;
  // Largest reassembled request stub ([MS-RPCE] 3.3.3.5.4: 4 MiB; case 12).
  size_t max_request_bytes = 4 * 1024 * 1024;
  // Authentication contexts one association may open (case 22): enough for
  // every legitimate client, and a bound on what one connection can hold.
  size_t max_auth_contexts = 2049;
  // Of those, handshakes not yet complete: a legitimate client runs one at
  // a time, and an unfinished one holds the peer's messages, so a small
  // cap keeps an unauthenticated peer from filling the table above.
  size_t max_unfinished_auth_contexts = 8;
  // Presentation contexts one association may negotiate; a client needs a
  // few per interface it calls.
  size_t max_presentation_contexts = 256;
  // Calls one multiplexed (PFC_CONC_MPX) association may have in flight.
  size_t max_concurrent_calls = 64;
};

// RPC_S_NO_CALL_ACTIVE (1725) as a fault status (case 16).
inline constexpr uint32_t nca_s_fault_no_call_active = 0x000006BD;

class ServerConnection {
 public:
  ServerConnection(const InterfaceRegistry* registry, ServerLimits limits,
                   bool local, std::string secondary_address);
  ~ServerConnection();
  ServerConnection(const ServerConnection&) = delete;
  ServerConnection& operator=(const ServerConnection&) = delete;

  // The server's association groups; without them each connection is its
  // own group and binds naming a group are refused.
  void SetAssociationGroups(AssociationGroups* groups) { groups_ = groups; }

  // The caller's credentials from the kernel, for ncalrpc connections.
  void SetPeer(uint32_t uid, uint32_t gid, uint32_t pid) {
    peer_ = {true, uid, gid, pid};
  }
  void SetLoopback(bool loopback) { loopback_ = loopback; }
  // Where notable events (not rejections: those are close_reason) go.
  void SetLog(std::function<void(const std::string&)> log) { log_ = std::move(log); }
  // How logs name the peer ("127.0.0.1:50312").
  void SetPeerDescription(std::string peer) { peer_description_ = std::move(peer); }
  // The security packages this server offers; null offers none, and any
  // verifier in a bind is refused with reason 8.
  void SetPackages(const SecurityPackageRegistry* packages) {
    packages_ = packages;
  }
  // Serves requests without a verifier on a CALL or PKT association (as
  // impacket sends them) as CONNECT-level calls instead of refusing them;
  // see ServerOptions::allow_unverified_requests. Off by default.
  void AllowUnverifiedRequests(bool allow) { allow_unverified_requests_ = allow; }

  // Consumes one fragment; appends the fragments to send to `out`. Returns
  // false when the connection must be closed after sending them.
  bool OnFragment(std::span<const uint8_t> fragment,
                  std::vector<std::vector<uint8_t>>& out);

  bool bound() const { return bound_; }
  // A handshake is under way: the connection is not yet bound, an
  // authentication context is unfinished, or a refused auth3 awaits the
  // client's next PDU. The server bounds how long this may last.
  bool handshake_pending() const;
  // The bind negotiated concurrent multiplexing (PFC_CONC_MPX).
  bool multiplexed() const { return conc_mpx_; }
  uint16_t max_xmit_frag() const { return max_xmit_; }
  uint16_t max_recv_frag() const { return max_recv_; }
  // Why the connection was closed, for the log; empty while open.
  const std::string& close_reason() const { return close_reason_; }

 private:
  struct PendingCall {
    uint32_t call_id = 0;
    uint16_t context_id = 0;
    uint16_t opnum = 0;
    std::vector<uint8_t> stub;
    // The verifier of the first fragment; later fragments must match it.
    bool authenticated = false;
    uint32_t auth_context_id = 0;
    uint8_t auth_type = 0;
    uint8_t auth_level = 0;
    // A request without a verifier on a CONNECT association, or on a CALL
    // or PKT one when allow_unverified_requests_: it had only CONNECT's
    // protection.
    bool unsigned_request = false;
    std::array<uint8_t, 4> drep{};
  };

  struct AuthContext {
    uint8_t type = 0;
    uint8_t level = 0;
    std::unique_ptr<SecurityContext> context;
    // The handshake completed and unfinished_auth_contexts_ counts it no
    // more.
    bool complete = false;
  };

  ConnectionInfo Info(uint8_t auth_level) const;
  // Bookkeeping of unfinished_auth_contexts_: after each handshake leg, and
  // when a context is dropped.
  void NoteIfComplete(AuthContext& a);
  void DropAuthContext(std::map<uint32_t, AuthContext>::iterator it);
  // Who this connection is for association groups: its bind-time
  // authentication's principal (token user SID, package), or
  // unauthenticated; on ncalrpc prefixed with the kernel's uid.
  std::string PrincipalKey() const;
  // Once the principal is known: the creator records it as the group's
  // owner; a joiner must match it. False, with why, for a joiner that does
  // not.
  bool SettleGroupPrincipal(std::string* why);
  // The level `call` proved (CallContext::authn_level).
  uint32_t ProvenLevel(const PendingCall& call) const;
  bool HandleAuth3(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  // Starts or continues the handshake a bind or alter_context carries;
  // returns the reply verifier, or false after answering and closing.
  bool StepAuth(const Pdu& pdu, bool bind, std::optional<SecTrailer>* reply,
                std::vector<std::vector<uint8_t>>& out);
  // Checks a request fragment's verifier; unseals its stub when private.
  bool CheckRequestAuth(std::span<const uint8_t> fragment, const Pdu& pdu,
                        std::vector<uint8_t>* stub,
                        std::vector<std::vector<uint8_t>>& out);
  Result<std::vector<uint8_t>> EncodeResponse(Pdu& pdu, const PendingCall& call);

  bool HandleBind(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  bool HandleAlter(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  bool HandleRequest(std::span<const uint8_t> fragment, const Pdu& pdu,
                     std::vector<std::vector<uint8_t>>& out);
  void Dispatch(PendingCall call, std::vector<std::vector<uint8_t>>& out,
                bool* close);
  std::vector<ContextResultEntry> Negotiate(const BindBody& body,
                                            bool* protocol_error);

  bool BindNak(uint32_t call_id, uint16_t reason, std::string why,
               std::vector<std::vector<uint8_t>>& out);
  void Fault(uint32_t call_id, uint16_t context_id, uint32_t status,
             bool did_not_execute, std::vector<std::vector<uint8_t>>& out);
  // Samba sets PFC_DID_NOT_EXECUTE on most such faults but not on those
  // for a request whose verifier (or auth state) fails; we follow it.
  bool FaultAndClose(uint32_t call_id, uint16_t context_id, uint32_t status,
                     std::string why, std::vector<std::vector<uint8_t>>& out,
                     bool did_not_execute = true);

  const InterfaceRegistry* registry_;
  ServerLimits limits_;
  bool local_;
  std::string secondary_address_;
  bool bound_ = false;
  uint16_t max_xmit_;
  uint16_t max_recv_;
  uint32_t assoc_group_id_ = 0;
  // Accepted presentation contexts.
  struct Context {
    const InterfaceRegistration* interface;
    SyntaxId abstract_syntax;
    SyntaxId transfer_syntax;
  };
  std::map<uint16_t, Context> contexts_;
  // Calls being reassembled, by call_id: at most one unless the bind
  // negotiated PFC_CONC_MPX, then up to limits_.max_concurrent_calls whose
  // stubs together stay within max_request_bytes.
  std::map<uint32_t, PendingCall> pending_;
  size_t pending_bytes_ = 0;
  bool conc_mpx_ = false;
  std::string close_reason_;
  struct Peer {
    bool known = false;
    uint32_t uid = 0, gid = 0, pid = 0;
  } peer_;
  bool loopback_ = false;
  std::string peer_description_;
  std::function<void(const std::string&)> log_;
  bool allow_unverified_requests_ = false;
  // Logged once per connection: a client sends unsigned requests at CALL
  // or PKT and allow_unverified_requests_ serves them.
  bool warned_unsigned_ = false;
  const SecurityPackageRegistry* packages_ = nullptr;
  AssociationGroups* groups_ = nullptr;
  bool in_group_ = false;
  // This connection created its group (its principal becomes the owner)
  // rather than joined it (its principal must be the owner).
  bool group_creator_ = false;
  // The principal was recorded or checked (SettleGroupPrincipal).
  bool group_settled_ = false;
  // PFC_SUPPORT_HEADER_SIGN negotiated: an authenticated bind asked for it
  // and the bind_ack echoed it ([MS-RPCE] 3.3.1.5.2.1). NTLM signs the
  // whole PDU, header included, whatever is negotiated.
  bool header_signing_ = false;
  std::map<uint32_t, AuthContext> auth_contexts_;
  size_t unfinished_auth_contexts_ = 0;
  // Why an auth3 was refused; set, the next PDU gets fault access denied
  // and the connection closes.
  std::optional<std::string> refused_auth_;
  // The context the bind established; requests without a verifier use it
  // when its level allows that (CONNECT).
  std::optional<uint32_t> bind_auth_context_;
};

}  // namespace comsec::rpc
