// ServerConnection: the server side of one connection-oriented association
// as a pure state machine — fragments in, fragments out — so that every
// protocol rule is tested without sockets (the idea of Cap'n Proto's
// TestNetwork). The transport frames fragments by frag_length and sends
// what OnFragment produces; when OnFragment returns false it closes the
// connection after sending.
//
// The connection is three parts, each its own file: ServerAuth
// (server_auth.h: handshakes, verifiers, what a call proved),
// CallReassembler (call_reassembler.h: fragments into calls, within
// limits), and this file: bind and alter_context, the checks before a call
// runs, handing it to its interface (an IncomingCall answered through a
// CallResponder, now or later, from any thread) and sending its answer.
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
// Thread affinity: OnFragment and TakeAnswers run on one thread at a time
// (the connection's event-loop thread); CallResponders answer from any thread, and
// the wake callback (SetWake) tells the connection's owner to call
// TakeAnswers. The registry must outlive the connection.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/log.h"
#include "comsec/rpc/association_group.h"
#include "comsec/rpc/call_completions.h"
#include "comsec/rpc/call_reassembler.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/security_package.h"
#include "comsec/rpc/server_auth.h"

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
  // Both ends of the connection, for packages that tell a loopback logon
  // from a reflected one (NTLM, MS08-068).
  void SetEndpoints(TransportEndpoint local, TransportEndpoint peer) {
    local_endpoint_ = std::move(local);
    peer_endpoint_ = std::move(peer);
  }
  // Where this connection's events go (ServerOptions::logger lists them;
  // its close is the owner's to log, from close_reason): null logs
  // nothing. Must outlive the connection. Set before the first fragment.
  void SetLogger(const Logger* logger) { logger_ = logger; }
  // How logs name the peer ("127.0.0.1:50312").
  void SetPeerDescription(std::string peer) { peer_description_ = std::move(peer); }
  // The security packages this server offers; null offers none, and any
  // verifier in a bind is refused with reason 8.
  void SetPackages(const SecurityPackageRegistry* packages) { packages_ = packages; }
  // Serves requests without a verifier on a CALL or PKT association (as
  // impacket sends them) as CONNECT-level calls instead of refusing them;
  // see ServerOptions::allow_unverified_requests. Off by default.
  void AllowUnverifiedRequests(bool allow) { allow_unverified_requests_ = allow; }
  // Called from the answering thread when a call answered after
  // OnFragment returned; the owner then calls TakeAnswers on the
  // connection's thread. Set before the first fragment.
  void SetWake(std::function<void()> wake) { completions_->SetWake(std::move(wake)); }

  // Consumes one fragment; appends the fragments to send to `out`
  // (including the answers of calls answered meanwhile). Returns false
  // when the connection must be closed after sending them.
  bool OnFragment(std::span<const uint8_t> fragment,
                  std::vector<std::vector<uint8_t>>& out);
  // Appends the responses (or faults) of calls answered since the last
  // OnFragment or TakeAnswers.
  void TakeAnswers(std::vector<std::vector<uint8_t>>& out);

  bool bound() const { return bound_; }
  // A handshake is under way: the connection is not yet bound, an
  // authentication context is unfinished, or a refused auth3 awaits the
  // client's next PDU. The server bounds how long this may last.
  bool handshake_pending() const;
  // Calls handed to their interface and not yet answered.
  size_t calls_in_progress() const { return in_flight_.size(); }
  // The bind negotiated concurrent multiplexing (PFC_CONC_MPX).
  bool multiplexed() const { return conc_mpx_; }
  uint16_t max_xmit_frag() const { return max_xmit_; }
  uint16_t max_recv_frag() const { return max_recv_; }
  // Why the connection was closed, for the log; empty while open.
  const std::string& close_reason() const { return close_reason_; }

 private:
  ServerAuth& Auth();
  // Who this connection is for association groups: its bind-time
  // authentication's principal, on ncalrpc prefixed with the kernel's uid.
  std::string PrincipalKey();
  // Once the principal is known: the creator records it as the group's
  // owner; a joiner must match it. False, with why, for a joiner that does
  // not.
  bool SettleGroupPrincipal(std::string* why);

  bool HandleBind(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  bool HandleAlter(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  bool HandleAuth3(const Pdu& pdu, std::vector<std::vector<uint8_t>>& out);
  bool HandleRequest(std::span<const uint8_t> fragment, const Pdu& pdu,
                     std::vector<std::vector<uint8_t>>& out);
  // Runs the checks before a call and hands it to its interface.
  void Dispatch(AssembledCall call, std::vector<std::vector<uint8_t>>& out,
                bool* close);
  void SendAnswer(uint32_t call_id, Result<std::vector<uint8_t>> result,
                  std::vector<std::vector<uint8_t>>& out);
  std::vector<ContextResultEntry> Negotiate(const BindBody& body,
                                            bool* protocol_error);

  bool BindNak(uint32_t call_id, uint16_t reason, std::string why,
               std::vector<std::vector<uint8_t>>& out);
  void Fault(uint32_t call_id, uint16_t context_id, uint32_t status,
             bool did_not_execute, std::vector<std::vector<uint8_t>>& out);
  bool FaultAndClose(uint32_t call_id, uint16_t context_id, uint32_t status,
                     std::string why, std::vector<std::vector<uint8_t>>& out,
                     bool did_not_execute = true);
  // Answers a refusal (bind_nak or fault) and closes.
  bool Refuse(uint32_t call_id, const Refusal& r,
              std::vector<std::vector<uint8_t>>& out);

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
  CallReassembler reassembler_;
  // Calls handed to their interface and not yet answered: what their
  // answer is sent under.
  struct InFlight {
    uint16_t context_id = 0;
    RequestAuth auth;
  };
  std::map<uint32_t, InFlight> in_flight_;
  std::shared_ptr<internal::CallCompletions> completions_ =
      std::make_shared<internal::CallCompletions>();
  bool conc_mpx_ = false;
  std::string close_reason_;
  struct Peer {
    bool known = false;
    uint32_t uid = 0, gid = 0, pid = 0;
  } peer_;
  bool loopback_ = false;
  TransportEndpoint local_endpoint_;
  TransportEndpoint peer_endpoint_;
  std::string peer_description_;
  const Logger* logger_ = nullptr;
  // A call refused before its stub ran, as one rpc.call_denied event.
  void LogDenied(const CallContext& call, const std::string& why);
  // A handler that threw, as one rpc.handler_threw event.
  void LogHandlerThrew(const SyntaxId& interface, uint16_t opnum, const RequestAuth& auth);
  bool allow_unverified_requests_ = false;
  const SecurityPackageRegistry* packages_ = nullptr;
  // Made at the first bind, once the setters above have run.
  std::optional<ServerAuth> auth_;
  AssociationGroups* groups_ = nullptr;
  bool in_group_ = false;
  // This connection created its group (its principal becomes the owner)
  // rather than joined it (its principal must be the owner).
  bool group_creator_ = false;
  // The principal was recorded or checked (SettleGroupPrincipal).
  bool group_settled_ = false;
  // PFC_SUPPORT_HEADER_SIGN negotiated: an authenticated bind asked for it
  // and the bind_ack echoed it ([MS-RPCE] 3.3.1.5.2.1).
  bool header_signing_ = false;
  // Why an auth3 was refused; set, the next PDU gets fault access denied
  // and the connection closes.
  std::optional<std::string> refused_auth_;
};

}  // namespace comsec::rpc
