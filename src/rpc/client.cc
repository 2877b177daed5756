#include "comsec/rpc/client.h"

#include <algorithm>

#include "comsec/rpc/pdu_codec.h"
#include "comsec/rpc/verification_trailer.h"

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
  COMSEC_RETURN_IF_ERROR(s.VerifyLocalServer(options.trusted_server_uids));
  return std::unique_ptr<Client>(new Client(std::move(s), options, binding));
}

Status Client::Bind(const SyntaxId& syntax, const ClientAuth* auth) {
  Pdu p;
  p.header.type = PduType::kBind;
  p.header.call_id = next_call_id_++;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = options_.max_frag;
  b.contexts.push_back({0, syntax, {Ndr20Syntax()}});
  p.body = b;
  if (auth) {
    if (auth->package == nullptr || auth->level < kAuthnLevelConnect ||
        auth->level > kAuthnLevelPktPrivacy) {
      return Status(E_INVALIDARG, "authentication needs a package and a level 2-6");
    }
    auth_ = *auth;
    ConnectionInfo info;
    info.local = local_;
    info.auth_level = auth->level;
    info.peer = binding_.ToString();
    info.local_address = socket_.LocalDescription();
    // Offer header signing, as Windows clients do ([MS-RPCE] 3.3.1.5.2.1).
    p.header.pfc_flags |= PFC_SUPPORT_HEADER_SIGN;
    COMSEC_ASSIGN_OR_RETURN(auth_context_, auth->package->NewClientContext(info));
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> token, auth_context_->Initiate({}));
    p.auth = SecTrailer{auth->package->auth_type(), auth->level, 0, 0,
                        auth->context_id, std::move(token)};
  }
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
  header_signing_ = auth && (r.header.pfc_flags & PFC_SUPPORT_HEADER_SIGN);
  if (auth_context_) {
    if (!r.auth || r.auth->auth_type != auth_.package->auth_type() ||
        r.auth->auth_level != auth_.level ||
        r.auth->auth_context_id != auth_.context_id) {
      return Status(HResult::FromWin32(1825),  // RPC_S_SEC_PKG_ERROR
                    "the server did not answer the authentication as asked");
    }
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> next,
                            auth_context_->Initiate(r.auth->auth_value));
    if (!auth_context_->IsComplete()) {
      return Status(HResult::FromWin32(1825),  // RPC_S_SEC_PKG_ERROR
                    "the security package needs more legs than bind and auth3");
    }
    if (!next.empty()) {
      // Third leg (NTLM's AUTHENTICATE): auth3 has no reply.
      Pdu auth3;
      auth3.header.type = PduType::kAuth3;
      auth3.header.call_id = next_call_id_++;
      auth3_call_id_ = auth3.header.call_id;
      auth3.body = EmptyBody{};
      auth3.auth = SecTrailer{auth_.package->auth_type(), auth_.level, 0, 0,
                              auth_.context_id, std::move(next)};
      COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(auth3)));
    }
  }
  syntax_ = syntax;
  contexts_.clear();
  contexts_[known_key(syntax)] = 0;
  context_id_ = 0;
  bound_ = true;
  return Status();
}

Result<std::vector<uint8_t>> Client::EncodeRequest(Pdu& p) {
  if (!auth_context_ || auth_.level < kAuthnLevelCall) return EncodePdu(p);
  const size_t sig = auth_context_->SignatureSize();
  p.auth = SecTrailer{auth_.package->auth_type(), auth_.level, 0, 0,
                      auth_.context_id, std::vector<uint8_t>(sig, 0)};
  std::vector<uint8_t> bytes = EncodePdu(p);
  std::span<uint8_t> signature(bytes.data() + bytes.size() - sig, sig);
  COMSEC_RETURN_IF_ERROR(auth_context_->Protect(
      bytes, kHeaderSize + 8, bytes.size() - sig - kSecTrailerSize, auth_.level,
      signature));
  return bytes;
}

Status Client::CheckResponse(std::vector<uint8_t>& bytes, const Pdu& r,
                             std::vector<uint8_t>* stub) {
  *stub = std::get<ResponseBody>(r.body).stub;
  if (!auth_context_ || auth_.level < kAuthnLevelCall) return Status();
  if (!r.auth || r.auth->auth_type != auth_.package->auth_type() ||
      r.auth->auth_level != auth_.level ||
      r.auth->auth_context_id != auth_.context_id) {
    return Status(HResult::FromWin32(1825),
                  "a response arrived without the verifier its level requires");
  }
  const size_t sig = r.header.auth_length;
  const size_t stub_end = bytes.size() - sig - kSecTrailerSize;
  // The signature stays in place: Verify unseals only the stub before it.
  std::span<const uint8_t> signature(bytes.data() + bytes.size() - sig, sig);
  COMSEC_RETURN_IF_ERROR(auth_context_->Verify(bytes, kHeaderSize + 8, stub_end,
                                               auth_.level, signature));
  stub->assign(bytes.begin() + kHeaderSize + 8,
               bytes.begin() + static_cast<ptrdiff_t>(stub_end - r.auth->auth_pad_length));
  return Status();
}

Status Client::Reconnect() {
  COMSEC_ASSIGN_OR_RETURN(Socket s, Socket::Connect(binding_, options_.timeout_ms));
  COMSEC_RETURN_IF_ERROR(s.VerifyLocalServer(options_.trusted_server_uids));
  socket_ = std::move(s);
  bound_ = false;
  std::optional<ClientAuth> auth;
  if (auth_context_) auth = auth_;
  auth_context_.reset();
  return Bind(syntax_, auth ? &*auth : nullptr);
}

std::string Client::known_key(const SyntaxId& s) {
  return s.uuid.ToString() + "/" + std::to_string(s.major) + "." + std::to_string(s.minor);
}

Status Client::AlterContext(const SyntaxId& syntax) {
  std::lock_guard<std::mutex> lock(call_mu_);
  if (!bound_) return Status(E_UNEXPECTED, "AlterContext before Bind");
  auto known = contexts_.find(known_key(syntax));
  if (known != contexts_.end()) {
    context_id_ = known->second;
    syntax_ = syntax;
    return Status();
  }
  const uint16_t id = static_cast<uint16_t>(contexts_.size());
  Pdu p;
  p.header.type = PduType::kAlterContext;
  p.header.call_id = next_call_id_++;
  BindBody b;
  b.max_xmit_frag = b.max_recv_frag = options_.max_frag;
  b.contexts.push_back({id, syntax, {Ndr20Syntax()}});
  p.body = b;
  COMSEC_RETURN_IF_ERROR(socket_.WriteAll(EncodePdu(p)));
  COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> reply, socket_.ReadFragment(options_.timeout_ms));
  COMSEC_ASSIGN_OR_RETURN(Pdu r, DecodePdu(reply));
  if (r.header.call_id != p.header.call_id) {
    return Status(RPC_S_PROTOCOL_ERROR, "alter_context reply for another call");
  }
  if (r.header.type == PduType::kFault) {
    return Status(FaultToHResult(std::get<FaultBody>(r.body).status),
                  "the server refused the alter_context");
  }
  if (r.header.type != PduType::kAlterContextResp) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  std::string("expected alter_context_resp, got ") + PduTypeName(r.header.type));
  }
  const auto& resp = std::get<BindAckBody>(r.body);
  if (resp.results.empty() || resp.results[0].result != ContextResult::kAcceptance) {
    return Status(HResult::FromWin32(1717),  // RPC_S_UNKNOWN_IF
                  "the server does not offer interface " + syntax.uuid.ToString() + " v" +
                      std::to_string(syntax.major) + "." + std::to_string(syntax.minor));
  }
  contexts_[known_key(syntax)] = id;
  context_id_ = id;
  syntax_ = syntax;
  return Status();
}

std::future<Result<std::vector<uint8_t>>> Client::CallAsync(
    uint16_t opnum, std::vector<uint8_t> stub) {
  return std::async(std::launch::async, [this, opnum, stub = std::move(stub)] {
    return Call(opnum, stub);
  });
}

Result<std::vector<uint8_t>> Client::Call(uint16_t opnum,
                                          std::span<const uint8_t> stub_in) {
  std::lock_guard<std::mutex> lock(call_mu_);
  if (!bound_) return Status(E_UNEXPECTED, "Call before Bind");
  if (socket_.PeerClosed()) {
    // Nothing of this call was sent yet, so a fresh association is safe.
    COMSEC_RETURN_IF_ERROR(Reconnect());
  }
  const uint32_t call_id = next_call_id_++;
  std::vector<uint8_t> with_trailer;
  std::span<const uint8_t> stub = stub_in;
  if (auth_context_) {
    // Case 29: authenticated requests carry a verification trailer naming
    // their context and header, protected by the PDU's signature.
    with_trailer.assign(stub_in.begin(), stub_in.end());
    VtHeader2 h;
    h.ptype = static_cast<uint8_t>(PduType::kRequest);
    h.drep = {0x10, 0, 0, 0};
    h.call_id = call_id;
    h.context_id = context_id_;
    h.opnum = opnum;
    AppendVerificationTrailer(with_trailer, syntax_, Ndr20Syntax(), h, header_signing_);
    stub = with_trailer;
  }
  size_t overhead = 24;
  if (auth_context_ && auth_.level >= kAuthnLevelCall) {
    overhead += kSecTrailerSize + 3 + auth_context_->SignatureSize();
  }
  const size_t chunk = max_xmit_ - overhead;
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
    r.context_id = context_id_;
    r.opnum = opnum;
    r.stub.assign(stub.begin() + static_cast<ptrdiff_t>(sent),
                  stub.begin() + static_cast<ptrdiff_t>(sent + n));
    p.body = std::move(r);
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, EncodeRequest(p));
    COMSEC_RETURN_IF_ERROR(socket_.WriteAll(bytes));
    sent += n;
  } while (sent < stub.size());

  std::vector<uint8_t> result;
  bool first = true;
  for (;;) {
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes,
                            socket_.ReadFragment(options_.timeout_ms));
    COMSEC_ASSIGN_OR_RETURN(Pdu r, DecodePdu(bytes));
    if (r.header.type == PduType::kFault && auth3_call_id_ &&
        r.header.call_id == *auth3_call_id_) {
      // auth3 has no reply unless the server refused it.
      return Status(HResult::FromWin32(5),
                    "the server refused our authentication (fault " +
                        FaultToHResult(std::get<FaultBody>(r.body).status).ToString() +
                        " on auth3): wrong credentials, or a level or "
                        "package it does not accept");
    }
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
    std::vector<uint8_t> stub;
    COMSEC_RETURN_IF_ERROR(CheckResponse(bytes, r, &stub));
    if (stub.size() > options_.max_response_bytes - result.size()) {
      return Status(RPC_S_PROTOCOL_ERROR, "the response exceeds the client's limit");
    }
    result.insert(result.end(), stub.begin(), stub.end());
    if (r.header.pfc_flags & PFC_LAST_FRAG) return result;
  }
}

}  // namespace comsec::rpc
