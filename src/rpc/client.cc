#include "rpc/client.h"

#include <algorithm>

#include "rpc/pdu_codec.h"

namespace comsec::rpc {

HResult FaultToHResult(uint32_t status) {
  switch (status) {
    case nca_s_op_rng_error: return HResult::FromWin32(1745);  // RPC_S_PROCNUM_OUT_OF_RANGE
    case nca_s_unknown_if: return HResult::FromWin32(1717);    // RPC_S_UNKNOWN_IF
    case nca_s_proto_error: return HResult::FromWin32(1728);   // RPC_S_PROTOCOL_ERROR
    case nca_s_fault_context_mismatch: return HResult::FromWin32(6);  // ERROR_INVALID_HANDLE
    case nca_s_fault_remote_no_memory: return HResult::FromWin32(14);
    default:
      // Win32 codes travel as themselves; HRESULTs too.
      return static_cast<int32_t>(status) < 0 ? HResult(status)
                                              : HResult::FromWin32(status);
  }
}

Result<std::unique_ptr<Client>> Client::Connect(const StringBinding& binding,
                                                ClientOptions options) {
  COMSEC_ASSIGN_OR_RETURN(Socket s, Socket::Connect(binding, options.timeout_ms));
  return std::unique_ptr<Client>(new Client(std::move(s), options));
}

Status Client::Bind(const SyntaxId& syntax) {
  Pdu p;
  p.header.type = PduType::kBind;
  p.header.call_id = next_call_id_++;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = options_.max_frag;
  b.contexts.push_back({0, syntax, {Ndr20Syntax()}});
  p.body = b;
  COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(p)));
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply,
                          socket_.ReadFragment(options_.timeout_ms));
  COMSEC_ASSIGN_OR_RETURN(Pdu r, DecodePdu(reply));
  if (r.header.call_id != p.header.call_id) {
    return Status(RPC_S_PROTOCOL_ERROR, "bind reply for another call");
  }
  if (r.header.type == PduType::kBindNak) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  "the server refused the bind (bind_nak reason " +
                      std::to_string(std::get<BindNakBody>(r.body).reason) + ")");
  }
  if (r.header.type != PduType::kBindAck) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  std::string("expected bind_ack, got ") + PduTypeName(r.header.type));
  }
  const auto& ack = std::get<BindAckBody>(r.body);
  if (ack.results.empty() || ack.results[0].result != ContextResult::kAcceptance) {
    return Status(HResult::FromWin32(1717),
                  "the server does not offer interface " + syntax.uuid.ToString() +
                      " v" + std::to_string(syntax.major) + "." +
                      std::to_string(syntax.minor));
  }
  if (ack.max_xmit_frag < 2048 || ack.max_recv_frag < 2048) {
    return Status(RPC_S_PROTOCOL_ERROR, "the server negotiated a fragment size below 2048");
  }
  max_xmit_ = std::min(ack.max_recv_frag, options_.max_frag);
  bound_ = true;
  return Status();
}

Result<std::vector<uint8_t>> Client::Call(uint16_t opnum,
                                          std::span<const uint8_t> stub) {
  if (!bound_) return Status(E_UNEXPECTED, "Call before Bind");
  const uint32_t call_id = next_call_id_++;
  const size_t chunk = max_xmit_ - 24u;
  size_t sent = 0;
  do {
    size_t n = std::min(chunk, stub.size() - sent);
    Pdu p;
    p.header.type = PduType::kRequest;
    p.header.call_id = call_id;
    p.header.pfc_flags = (sent == 0 ? PFC_FIRST_FRAG : 0) |
                         (sent + n == stub.size() ? PFC_LAST_FRAG : 0);
    RequestBody r;
    r.alloc_hint = static_cast<uint32_t>(stub.size() - sent);
    r.opnum = opnum;
    r.stub.assign(stub.begin() + static_cast<ptrdiff_t>(sent),
                  stub.begin() + static_cast<ptrdiff_t>(sent + n));
    p.body = std::move(r);
    COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(p)));
    sent += n;
  } while (sent < stub.size());

  std::vector<uint8_t> result;
  bool first = true;
  for (;;) {
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            socket_.ReadFragment(options_.timeout_ms));
    COMSEC_ASSIGN_OR_RETURN(Pdu r, DecodePdu(bytes));
    if (r.header.call_id != call_id) {
      return Status(RPC_S_PROTOCOL_ERROR, "a reply for call " +
                                              std::to_string(r.header.call_id) +
                                              " arrived during call " +
                                              std::to_string(call_id));
    }
    if (r.header.type == PduType::kFault) {
      uint32_t status = std::get<FaultBody>(r.body).status;
      HResult hr = FaultToHResult(status);
      return Status(hr, "the server returned fault " + hr.ToString());
    }
    if (r.header.type != PduType::kResponse) {
      return Status(RPC_S_PROTOCOL_ERROR,
                    std::string("expected a response, got ") + PduTypeName(r.header.type));
    }
    if (first != bool(r.header.pfc_flags & PFC_FIRST_FRAG)) {
      return Status(RPC_S_PROTOCOL_ERROR, "response fragments out of order");
    }
    first = false;
    auto& body = std::get<ResponseBody>(r.body);
    if (body.stub.size() > options_.max_response_bytes - result.size()) {
      return Status(RPC_S_PROTOCOL_ERROR, "the response exceeds the client's limit");
    }
    result.insert(result.end(), body.stub.begin(), body.stub.end());
    if (r.header.pfc_flags & PFC_LAST_FRAG) return result;
  }
}

}  // namespace comsec::rpc
