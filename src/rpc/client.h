// Client: one connection to a server, bound to one interface, making
// synchronous calls — requests fragmented within the negotiated size,
// responses reassembled and checked (call id, context, fragment flags), and
// faults mapped to the HRESULTs Windows clients see.
#pragma once

#include <cstdint>
#include <future>
#include <map>
#include <memory>
#include <string>
#include <mutex>
#include <optional>
#include <span>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/rpc/binding.h"
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
};

// How a client authenticates its association. The package must outlive the
// client.
struct ClientAuth {
  SecurityPackage* package = nullptr;
  uint8_t level = kAuthnLevelPktIntegrity;
  uint32_t context_id = 79231;  // any value; Windows clients use this one
};

// The HRESULT a fault status means to a caller (RPC_S_* for nca_s_*).
HResult FaultToHResult(uint32_t status);

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const StringBinding& binding,
                                                 ClientOptions options = {});

  // Binds context 0 to `syntax` over NDR20. A rejected context is
  // RPC_S_UNKNOWN_IF; a bind_nak is RPC_S_PROTOCOL_ERROR-class with its reason.
  // With `auth`, the bind carries the package's first token and the
  // handshake finishes with auth3 when the package needs a third leg; every
  // later call is protected at auth->level, and every response's verifier
  // is checked.
  Status Bind(const SyntaxId& syntax, const ClientAuth* auth = nullptr);
  // A connection the server closed between calls is re-established (and
  // re-bound, re-authenticated) before the request is sent; a connection
  // lost after the request went out is RPC_S_CALL_FAILED, never retried,
  // since the call may have run (at-most-once).
  Result<std::vector<uint8_t>> Call(uint16_t opnum, std::span<const uint8_t> stub);

  // Adds a presentation context for another interface on this association
  // (alter_context) and makes later calls use it; switching back to an
  // interface already negotiated sends nothing. RPC_S_UNKNOWN_IF when the
  // server does not offer it. Reconnection re-binds only the current one.
  Status AlterContext(const SyntaxId& syntax);

  // Starts the call on another thread and returns at once; calls on one
  // client run one at a time in the order they reach the connection (the
  // association does not negotiate CONC_MPX). The stub is copied.
  std::future<Result<std::vector<uint8_t>>> CallAsync(
      uint16_t opnum, std::vector<uint8_t> stub);

  uint16_t max_xmit_frag() const { return max_xmit_; }

 private:
  Client(Socket s, ClientOptions o, StringBinding binding)
      : socket_(std::move(s)),
        options_(o),
        binding_(std::move(binding)),
        local_(binding_.IsLocal()) {}
  Status Reconnect();
  Result<std::vector<uint8_t>> EncodeRequest(Pdu& p);
  Status CheckResponse(std::vector<uint8_t>& bytes, const Pdu& r,
                       std::vector<uint8_t>* stub);

  Socket socket_;
  ClientOptions options_;
  StringBinding binding_;
  bool local_ = false;
  std::unique_ptr<SecurityContext> auth_context_;
  ClientAuth auth_;
  SyntaxId syntax_;
  // Negotiated presentation contexts by interface, and the one calls use.
  static std::string known_key(const SyntaxId& s);
  std::map<std::string, uint16_t> contexts_;
  uint16_t context_id_ = 0;
  uint32_t next_call_id_ = 1;
  // The call id our auth3 used: a fault for it means the server refused
  // the handshake's last leg.
  std::optional<uint32_t> auth3_call_id_;
  // Serializes calls (synchronous and asynchronous) on the connection.
  std::mutex call_mu_;
  uint16_t max_xmit_ = 0;
  // The server echoed PFC_SUPPORT_HEADER_SIGN; our verification trailers
  // then say so (bitmask1).
  bool header_signing_ = false;
  bool bound_ = false;
};

}  // namespace comsec::rpc
