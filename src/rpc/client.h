// Client: one connection to a server, bound to one interface, making
// synchronous calls — requests fragmented within the negotiated size,
// responses reassembled and checked (call id, context, fragment flags), and
// faults mapped to the HRESULTs Windows clients see.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "base/result.h"
#include "rpc/binding.h"
#include "rpc/pdu.h"
#include "rpc/transport/socket.h"

namespace comsec::rpc {

struct ClientOptions {
  int timeout_ms = 30000;
  uint16_t max_frag = 5840;
  // Largest response accepted, the client's side of case 12.
  size_t max_response_bytes = 16 * 1024 * 1024;
};

// The HRESULT a fault status means to a caller (RPC_S_* for nca_s_*).
HResult FaultToHResult(uint32_t status);

class Client {
 public:
  static Result<std::unique_ptr<Client>> Connect(const StringBinding& binding,
                                                 ClientOptions options = {});

  // Binds context 0 to `syntax` over NDR20. A rejected context is
  // RPC_S_UNKNOWN_IF; a bind_nak is RPC_S_PROTOCOL_ERROR-class with its reason.
  Status Bind(const SyntaxId& syntax);
  Result<std::vector<uint8_t>> Call(uint16_t opnum, std::span<const uint8_t> stub);

  uint16_t max_xmit_frag() const { return max_xmit_; }

 private:
  Client(Socket s, ClientOptions o) : socket_(std::move(s)), options_(o) {}
  Socket socket_;
  ClientOptions options_;
  uint32_t next_call_id_ = 1;
  uint16_t max_xmit_ = 0;
  bool bound_ = false;
};

}  // namespace comsec::rpc
