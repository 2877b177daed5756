// Client: one association with a server (C706 12.6; [MS-RPCE] 3.3.2) —
// bind and alter_context, any number of authentication contexts, each with
// its own package, level, credentials and target name (COM proxies with
// different blankets share one connection), handshakes of any number of
// legs (bind, alter_context, auth3), requests with an object UUID, and
// calls multiplexed on the connection when the bind negotiated
// PFC_CONC_MPX. Requests are fragmented within the negotiated size and
// protected (fragmenter.h, pdu_protection.h); responses are reassembled,
// verified and checked (call id, context, fragment flags); faults map to
// the HRESULTs Windows clients see.
//
// Thread-safety: every method may be called from any thread. Calls run
// concurrently when the association is multiplexed (one thread at a time
// reads the socket and hands each fragment to its call), else one at a
// time in the order they reach the connection. Bind, AddAuthContext,
// AlterContext and a reconnection wait until no call is in progress.
#pragma once

#include <array>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <future>
#include <map>
#include <tuple>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/result.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/interface.h"
#include "comsec/rpc/pdu.h"
#include "comsec/rpc/security_package.h"
#include "comsec/rpc/transport/socket.h"

namespace comsec::rpc {

struct ClientOptions {
  int timeout_ms = 30000;
  uint16_t max_frag = 5840;
  // Largest response accepted, the client's side of case 12.
  size_t max_response_bytes = 16 * 1024 * 1024;
  // On ncalrpc, the uids the server may run as, checked with the kernel's
  // SO_PEERCRED before anything is sent; empty means root or this process's
  // own effective uid. Anyone else is an impostor (SEC_E_WRONG_PRINCIPAL).
  std::vector<uint32_t> trusted_server_uids;
  // Ask for PFC_CONC_MPX in the bind: concurrent calls then share the
  // connection instead of waiting for each other.
  bool multiplex = true;
  // Makes the connection (the first and every reconnection) instead of
  // Socket::Connect: what lets a caller decide which credentials the
  // kernel records for an ncalrpc client (SO_PEERCRED is taken from the
  // connecting thread at connect time; com/local_transport.h connects a
  // process's association from a thread that is not impersonating). Null:
  // Socket::Connect on the calling thread.
  std::function<Result<Socket>(const StringBinding&, int timeout_ms)> dial;
};

// One authentication context of an association (a COM blanket's wire
// half). The package must outlive the client.
struct ClientAuth {
  SecurityPackage* package = nullptr;
  security::AuthnLevel level = security::AuthnLevel::kPktIntegrity;
  // Who to authenticate as; null: the package's default.
  std::shared_ptr<const Credentials> credentials = nullptr;
  // The server principal expected (SPN); packages that authenticate the
  // server check it.
  std::string target_name = {};
  security::ImpLevel imp_level = security::ImpLevel::kImpersonate;
  // kFeature* bits wanted beyond what the level implies (mutual
  // authentication, delegation). A wanted kFeatureMutualAuth the context
  // did not achieve fails the handshake (SEC_E_SECPKG error, before the
  // last leg leaves). A wanted kFeatureDelegate does not: Windows makes a
  // call at RPC_C_IMP_LEVEL_DELEGATE to a server the KDC does not trust for
  // delegation (ok-as-delegate unset) and simply forwards no ticket, so the
  // bind succeeds and Client::unmet_features() tells the caller.
  uint32_t wanted = 0;
  uint32_t context_id = 79231;  // any value; Windows clients use this one
};

// How one call is made.
struct CallOptions {
  // The request's object UUID (COM's IPID).
  std::optional<Guid> object;
  // The authentication context (a ClientAuth::context_id already
  // established); nullopt: the bind's, or none.
  std::optional<uint32_t> auth_context_id;
  // The interface the call is for, when not the association's current one:
  // a presentation context for it is negotiated (alter_context) on first
  // use and kept, without changing the current interface. What COM's
  // proxies of several interfaces of one object use to share an
  // association, concurrently.
  std::optional<SyntaxId> syntax;
};

// The HRESULT a fault status means to a caller (RPC_S_* for nca_s_*).
HResult FaultToHResult(uint32_t status);

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const StringBinding& binding,
                                                 ClientOptions options = {});
  ~Client();

  // Binds context 0 to `syntax` over NDR20. A rejected context is
  // RPC_S_UNKNOWN_IF; a bind_nak is RPC_S_PROTOCOL_ERROR with its reason.
  // With `auth`, the bind carries the package's first token and the
  // handshake continues (alter_context, auth3) until the package is done;
  // calls are then protected at auth->level by default.
  Status Bind(const SyntaxId& syntax, const ClientAuth* auth = nullptr);
  // Adds another authentication context to the bound association, its
  // handshake carried by alter_context (and auth3); calls choose it with
  // CallOptions::auth_context_id. E_INVALIDARG when the id is in use.
  Status AddAuthContext(const ClientAuth& auth);
  // The package's context for an established authentication context
  // (what it achieved, the peer's name), or null.
  const SecurityContext* auth_context(uint32_t context_id) const;
  // The kFeature* bits authentication context `context_id` achieved (its
  // package's features() after the handshake), 0 when there is no such
  // context. After a reconnection, those of the new handshake.
  uint32_t achieved_features(uint32_t context_id) const;
  // The bits its ClientAuth::wanted asked for that it did not achieve; only
  // kFeatureDelegate can be set here, since a missing kFeatureMutualAuth
  // fails the handshake. A caller at RPC_C_IMP_LEVEL_DELEGATE reads this
  // to tell its user that the server will not be able to act as them
  // beyond itself (the call itself goes on, as on Windows).
  uint32_t unmet_features(uint32_t context_id) const;

  // A connection the server closed between calls is re-established (and
  // re-bound, re-authenticated) before the request is sent; a connection
  // lost after the request went out is RPC_S_CALL_FAILED, never retried,
  // since the call may have run (at-most-once).
  Result<std::vector<uint8_t>> Call(uint16_t opnum, std::span<const uint8_t> stub);
  Result<std::vector<uint8_t>> Call(const CallOptions& options, uint16_t opnum,
                                    std::span<const uint8_t> stub);
  // The same call, keeping the response's data representation (a server
  // may answer big-endian); what generated proxies use.
  Result<CallReply> CallForReply(const CallOptions& options, uint16_t opnum,
                                 std::span<const uint8_t> stub);

  // Adds a presentation context for another interface on this association
  // (alter_context) and makes later calls use it; switching back to an
  // interface already negotiated sends nothing. RPC_S_UNKNOWN_IF when the
  // server does not offer it. Reconnection re-binds only the current one.
  Status AlterContext(const SyntaxId& syntax);

  // Starts the call on another thread and returns at once. The stub is
  // copied.
  std::future<Result<std::vector<uint8_t>>> CallAsync(uint16_t opnum,
                                                      std::vector<uint8_t> stub);
  std::future<Result<std::vector<uint8_t>>> CallAsync(CallOptions options, uint16_t opnum,
                                                      std::vector<uint8_t> stub);

  uint16_t max_xmit_frag() const { return max_xmit_; }
  // The server accepted PFC_CONC_MPX.
  bool multiplexed() const { return multiplexed_; }

 private:
  struct AuthState {
    ClientAuth auth;
    std::unique_ptr<SecurityContext> context;
  };
  // A call waiting for its response.
  struct Waiter {
    uint32_t auth_context_id = 0;
    bool authenticated = false;
    bool first_seen = false;
    bool done = false;
    Status error;
    std::vector<uint8_t> stub;
    // The first response fragment's drep.
    std::array<uint8_t, 4> drep = {0x10, 0, 0, 0};
  };

  Client(Socket s, ClientOptions o, StringBinding binding);
  // REQUIRES: assoc_mu_ held exclusively.
  Status BindLocked(const SyntaxId& syntax, const ClientAuth* auth);
  Status ReconnectLocked();
  // Runs a new authentication context's handshake on the bound
  // association. REQUIRES: exclusive, context id not in use.
  Status AddAuthContextLocked(const ClientAuth& auth);
  // An alter_context for presentation context `context_id` (its call id
  // taken from the association's counter).
  Pdu NewAlterContext(uint16_t context_id, const SyntaxId& syntax);
  // Negotiates a presentation context for `syntax` when there is none yet;
  // returns its id. REQUIRES: exclusive.
  Result<uint16_t> AddContextLocked(const SyntaxId& syntax);
  // Runs one authentication context's handshake. The first leg goes in
  // `first` (a bind or alter_context already filled in but for its
  // verifier); returns its reply's body through `first_reply`.
  Status Handshake(AuthState& state, Pdu first, Pdu* first_reply);
  // Sends one PDU and reads the reply to it. REQUIRES: exclusive.
  Result<Pdu> Exchange(const Pdu& pdu);
  Result<CallReply> CallShared(const CallOptions& options, uint16_t opnum,
                                          std::span<const uint8_t> stub);
  // Reads one fragment and hands it to its waiter; fails every waiter when
  // the connection breaks. REQUIRES: this thread is the reader.
  void ReadOne();
  void FailAllLocked(const Status& why);
  Status VerifyResponse(std::vector<uint8_t>& bytes, const Pdu& r, const Waiter& w,
                        std::vector<uint8_t>* stub);

  // Held shared by calls, exclusively by everything that changes the
  // association (bind, alter_context, handshakes, reconnection).
  std::shared_mutex assoc_mu_;
  // Calls on an association without CONC_MPX take turns.
  std::mutex serial_mu_;
  // Serializes writes and the package's Protect (sequence numbers advance
  // in sending order).
  std::mutex send_mu_;
  // The package contexts' Protect and Verify, which share state.
  std::mutex context_mu_;
  // Waiters, the reader role and the connection's health.
  std::mutex recv_mu_;
  std::condition_variable recv_cv_;
  std::map<uint32_t, Waiter*> waiters_;
  bool reader_active_ = false;
  // Set when the connection broke with calls in flight; the next call
  // reconnects.
  bool broken_ = false;
  // When the last response (not a fault) arrived, steady clock in µs: a
  // server that answered that recently has not closed the association
  // for idleness, so the call need not ask the socket (one system call
  // saved per call in a busy loop).
  int64_t last_response_us_ = 0;

  Socket socket_;
  ClientOptions options_;
  StringBinding binding_;
  bool local_ = false;
  std::map<uint32_t, AuthState> auth_;
  std::optional<uint32_t> bind_auth_id_;
  SyntaxId syntax_;
  // Negotiated presentation contexts by interface, and the one calls use.
  using ContextKey = std::tuple<Guid, uint16_t, uint16_t>;
  static ContextKey known_key(const SyntaxId& s) { return {s.uuid, s.major, s.minor}; }
  std::map<ContextKey, uint16_t> contexts_;
  uint16_t context_id_ = 0;
  uint32_t next_call_id_ = 1;
  // The call ids our auth3s used: a fault for one means the server refused
  // that handshake's last leg.
  std::vector<uint32_t> auth3_call_ids_;
  uint16_t max_xmit_ = 0;
  // The server echoed PFC_SUPPORT_HEADER_SIGN; our verification trailers
  // then say so (bitmask1).
  bool header_signing_ = false;
  bool multiplexed_ = false;
  bool bound_ = false;
};

}  // namespace comsec::rpc
