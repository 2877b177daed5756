#include "comsec/rpc/pdu_codec.h"

#include <cstdio>
#include <string>

#include "comsec/base/byte_writer.h"
#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

// A bounds-checked reader over one fragment in the sender's byte order.
class Reader {
 public:
  Reader(std::span<const uint8_t> bytes, bool little_endian, size_t base)
      : bytes_(bytes), le_(little_endian), base_(base) {}

  size_t remaining() const { return bytes_.size() - pos_; }
  size_t pos() const { return base_ + pos_; }

  Status Error(std::string_view what) const {
    char at[32];
    std::snprintf(at, sizeof at, " at offset 0x%zx", pos());
    return Status(RPC_S_PROTOCOL_ERROR, "PDU: " + std::string(what) + at)
        .WithPosition(pos());
  }
  Status Need(size_t n, const char* what) const {
    if (n <= remaining()) return Status();
    return Error(std::string(what) + " is truncated (" + std::to_string(n) +
                 " bytes needed, " + std::to_string(remaining()) + " left)");
  }
  Result<uint8_t> U8(const char* what) {
    COMSEC_RETURN_IF_ERROR(Need(1, what));
    return bytes_[pos_++];
  }
  Result<uint16_t> U16(const char* what) {
    COMSEC_RETURN_IF_ERROR(Need(2, what));
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += 2;
    return le_ ? static_cast<uint16_t>(p[0] | p[1] << 8)
               : static_cast<uint16_t>(p[1] | p[0] << 8);
  }
  Result<uint32_t> U32(const char* what) {
    COMSEC_RETURN_IF_ERROR(Need(4, what));
    const uint8_t* p = bytes_.data() + pos_;
    pos_ += 4;
    return le_ ? uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 |
                     uint32_t{p[3]} << 24
               : uint32_t{p[3]} | uint32_t{p[2]} << 8 | uint32_t{p[1]} << 16 |
                     uint32_t{p[0]} << 24;
  }
  Result<Guid> Uuid(const char* what) {
    COMSEC_RETURN_IF_ERROR(Need(16, what));
    Guid g;
    g.data1 = *U32(what);
    g.data2 = *U16(what);
    g.data3 = *U16(what);
    for (int i = 0; i < 8; ++i) g.data4[i] = bytes_[pos_++];
    return g;
  }
  // p_syntax_id_t (C706 12.6.3.1): the version is one u_int32, major in
  // its low 16 bits. Little-endian, that reads as major then minor; a
  // big-endian sender puts minor first.
  Result<SyntaxId> Syntax(const char* what) {
    SyntaxId s;
    COMSEC_ASSIGN_OR_RETURN(s.uuid, Uuid(what));
    COMSEC_ASSIGN_OR_RETURN(uint32_t version, U32(what));
    s.major = static_cast<uint16_t>(version & 0xFFFF);
    s.minor = static_cast<uint16_t>(version >> 16);
    return s;
  }
  Status Skip(size_t n, const char* what) {
    COMSEC_RETURN_IF_ERROR(Need(n, what));
    pos_ += n;
    return Status();
  }
  // Aligns relative to the start of the PDU, as C706 lays bodies out.
  Status AlignPdu(size_t n, const char* what) {
    return Skip((n - pos() % n) % n, what);
  }
  std::vector<uint8_t> Rest() {
    std::vector<uint8_t> v(bytes_.begin() + pos_, bytes_.end());
    pos_ = bytes_.size();
    return v;
  }

 private:
  std::span<const uint8_t> bytes_;
  bool le_;
  size_t base_;
  size_t pos_ = 0;
};

Result<BindBody> ReadBind(Reader& r) {
  BindBody b;
  COMSEC_ASSIGN_OR_RETURN(b.max_xmit_frag, r.U16("max_xmit_frag"));
  COMSEC_ASSIGN_OR_RETURN(b.max_recv_frag, r.U16("max_recv_frag"));
  COMSEC_ASSIGN_OR_RETURN(b.assoc_group_id, r.U32("assoc_group_id"));
  COMSEC_ASSIGN_OR_RETURN(uint8_t n, r.U8("n_context_elem"));
  COMSEC_RETURN_IF_ERROR(r.Skip(3, "p_context_elem reserved"));
  // Each element takes at least 24 bytes (no transfer syntaxes): refuse
  // counts the PDU cannot hold.
  if (size_t{n} * 24 > r.remaining()) {
    return r.Error(std::to_string(n) + " presentation contexts cannot fit");
  }
  b.contexts.reserve(n);
  for (uint8_t i = 0; i < n; ++i) {
    ContextElement c;
    COMSEC_ASSIGN_OR_RETURN(c.context_id, r.U16("p_cont_id"));
    COMSEC_ASSIGN_OR_RETURN(uint8_t n_syntax, r.U8("n_transfer_syn"));
    COMSEC_RETURN_IF_ERROR(r.Skip(1, "reserved"));
    COMSEC_ASSIGN_OR_RETURN(c.abstract_syntax, r.Syntax("abstract_syntax"));
    if (size_t{n_syntax} * 20 > r.remaining()) {
      return r.Error(std::to_string(n_syntax) + " transfer syntaxes cannot fit");
    }
    for (uint8_t k = 0; k < n_syntax; ++k) {
      COMSEC_ASSIGN_OR_RETURN(SyntaxId s, r.Syntax("transfer_syntax"));
      c.transfer_syntaxes.push_back(s);
    }
    b.contexts.push_back(std::move(c));
  }
  return b;
}

Result<BindAckBody> ReadBindAck(Reader& r) {
  BindAckBody b;
  COMSEC_ASSIGN_OR_RETURN(b.max_xmit_frag, r.U16("max_xmit_frag"));
  COMSEC_ASSIGN_OR_RETURN(b.max_recv_frag, r.U16("max_recv_frag"));
  COMSEC_ASSIGN_OR_RETURN(b.assoc_group_id, r.U32("assoc_group_id"));
  COMSEC_ASSIGN_OR_RETURN(uint16_t addr_len, r.U16("sec_addr length"));
  COMSEC_RETURN_IF_ERROR(r.Need(addr_len, "sec_addr"));
  std::vector<uint8_t> addr(addr_len);
  for (auto& c : addr) c = *r.U8("sec_addr");
  if (addr_len > 0) {
    if (addr.back() != 0) return r.Error("sec_addr does not end with NUL");
    b.secondary_address.assign(addr.begin(), addr.end() - 1);
  }
  COMSEC_RETURN_IF_ERROR(r.AlignPdu(4, "sec_addr padding"));
  COMSEC_ASSIGN_OR_RETURN(uint8_t n, r.U8("n_results"));
  COMSEC_RETURN_IF_ERROR(r.Skip(3, "p_result_list reserved"));
  if (size_t{n} * 24 > r.remaining()) {
    return r.Error(std::to_string(n) + " results cannot fit");
  }
  for (uint8_t i = 0; i < n; ++i) {
    ContextResultEntry e;
    COMSEC_ASSIGN_OR_RETURN(uint16_t result, r.U16("result"));
    if (result > 3) return r.Error("unknown context result " + std::to_string(result));
    e.result = static_cast<ContextResult>(result);
    COMSEC_ASSIGN_OR_RETURN(e.reason, r.U16("reason"));
    COMSEC_ASSIGN_OR_RETURN(e.transfer_syntax, r.Syntax("transfer_syntax"));
    b.results.push_back(e);
  }
  return b;
}

}  // namespace

const char* PduTypeName(PduType type) {
  static const char* const kNames[] = {
      "request",   "ping",     "response",         "fault",    "working",
      "nocall",    "reject",   "ack",              "cl_cancel", "fack",
      "cancel_ack", "bind",    "bind_ack",         "bind_nak", "alter_context",
      "alter_context_resp", "auth3", "shutdown",   "co_cancel", "orphaned"};
  auto i = static_cast<size_t>(type);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

std::optional<security::AuthnLevel> PduAuthnLevel(uint8_t wire) {
  const std::optional<security::AuthnLevel> level = security::AuthnLevelFromNumber(wire);
  if (!level || *level < security::AuthnLevel::kConnect) return std::nullopt;
  return level;
}

SyntaxId Ndr20Syntax() {
  return {*Guid::Parse("8a885d04-1ceb-11c9-9fe8-08002b104860"), 2, 0};
}
SyntaxId Ndr64Syntax() {
  return {*Guid::Parse("71710533-beba-4937-8319-b5dbef9ccc36"), 1, 0};
}
bool IsBindTimeFeatureNegotiation(const SyntaxId& s, uint64_t* bitmask) {
  auto b = s.uuid.ToBytes();
  static const uint8_t kPrefix[] = {0x2c, 0x1c, 0xb7, 0x6c, 0x12, 0x98, 0x40, 0x45};
  for (int i = 0; i < 8; ++i) {
    if (b[i] != kPrefix[i]) return false;
  }
  if (s.major != 1 || s.minor != 0) return false;
  if (bitmask) {
    *bitmask = 0;
    for (int i = 15; i >= 8; --i) *bitmask = *bitmask << 8 | b[i];
  }
  return true;
}

Result<PduHeader> PeekHeader(std::span<const uint8_t> bytes) {
  if (bytes.size() < kHeaderSize) {
    return Status(RPC_S_PROTOCOL_ERROR,
                  "PDU: " + std::to_string(bytes.size()) +
                      " bytes cannot hold the 16-byte header")
        .WithPosition(0);
  }
  PduHeader h;
  h.rpc_vers = bytes[0];
  h.rpc_vers_minor = bytes[1];
  h.type = static_cast<PduType>(bytes[2]);
  h.pfc_flags = bytes[3];
  for (int i = 0; i < 4; ++i) h.drep[i] = bytes[4 + i];
  Reader r(bytes.subspan(8, 8), (h.drep[0] & 0xF0) == 0x10, 8);
  h.frag_length = *r.U16("frag_length");
  h.auth_length = *r.U16("auth_length");
  h.call_id = *r.U32("call_id");
  return h;
}

Status ValidateHeader(const PduHeader& h, size_t fragment_size) {
  auto fail = [](size_t pos, std::string what) {
    return Status(RPC_S_PROTOCOL_ERROR, "PDU: " + what).WithPosition(pos);
  };
  if (h.rpc_vers != 5 || h.rpc_vers_minor != 0) {
    return fail(0, "protocol version " + std::to_string(h.rpc_vers) + "." +
                       std::to_string(h.rpc_vers_minor) +
                       " is not supported; only 5.0 is");
  }
  if ((h.drep[0] != 0x10 && h.drep[0] != 0x00) || h.drep[1] != 0 ||
      h.drep[2] != 0 || h.drep[3] != 0) {
    return fail(4, "data representation is not ASCII/IEEE in either byte order");
  }
  if (h.frag_length < kHeaderSize) {
    return fail(8, "frag_length " + std::to_string(h.frag_length) +
                       " is smaller than the header");
  }
  if (h.frag_length != fragment_size) {
    return fail(8, "frag_length " + std::to_string(h.frag_length) +
                       " does not match the " + std::to_string(fragment_size) +
                       " bytes of the fragment");
  }
  if (h.auth_length != 0 &&
      size_t{h.auth_length} + kSecTrailerSize > h.frag_length - kHeaderSize) {
    return fail(10, "auth_length " + std::to_string(h.auth_length) +
                        " leaves no room for the header and sec_trailer");
  }
  return Status();
}

Result<Pdu> DecodePdu(std::span<const uint8_t> fragment) {
  COMSEC_ASSIGN_OR_RETURN(PduHeader h, PeekHeader(fragment));
  COMSEC_RETURN_IF_ERROR(ValidateHeader(h, fragment.size()));
  const bool le = h.drep[0] == 0x10;
  Pdu pdu;
  pdu.header = h;

  size_t body_end = fragment.size();
  if (h.auth_length != 0) {
    const size_t trailer = fragment.size() - h.auth_length - kSecTrailerSize;
    Reader t(fragment.subspan(trailer), le, trailer);
    SecTrailer s;
    s.auth_type = *t.U8("auth_type");
    s.auth_level = *t.U8("auth_level");
    s.auth_pad_length = *t.U8("auth_pad_length");
    s.auth_reserved = *t.U8("auth_reserved");
    s.auth_context_id = *t.U32("auth_context_id");
    s.auth_value = t.Rest();
    body_end = trailer;
    pdu.auth = std::move(s);
  }
  Reader r(fragment.subspan(kHeaderSize, body_end - kHeaderSize), le,
           kHeaderSize);

  // Strips auth padding from a stub: it sits just before the trailer.
  auto stub_of = [&](Reader& rr) -> Result<std::vector<uint8_t>> {
    std::vector<uint8_t> stub = rr.Rest();
    if (pdu.auth) {
      if (pdu.auth->auth_pad_length > stub.size()) {
        return Status(RPC_S_PROTOCOL_ERROR,
                      "PDU: auth_pad_length " +
                          std::to_string(pdu.auth->auth_pad_length) +
                          " exceeds the stub's " + std::to_string(stub.size()) +
                          " bytes")
            .WithPosition(body_end);
      }
      stub.resize(stub.size() - pdu.auth->auth_pad_length);
    }
    return stub;
  };

  switch (h.type) {
    case PduType::kBind:
    case PduType::kAlterContext: {
      COMSEC_ASSIGN_OR_RETURN(BindBody b, ReadBind(r));
      pdu.body = std::move(b);
      break;
    }
    case PduType::kBindAck:
    case PduType::kAlterContextResp: {
      COMSEC_ASSIGN_OR_RETURN(BindAckBody b, ReadBindAck(r));
      pdu.body = std::move(b);
      break;
    }
    case PduType::kBindNak: {
      BindNakBody b;
      COMSEC_ASSIGN_OR_RETURN(b.reason, r.U16("provider_reject_reason"));
      if (r.remaining() >= 1) {
        uint8_t n = *r.U8("n_protocols");
        if (size_t{n} * 2 > r.remaining()) {
          return r.Error(std::to_string(n) + " protocol versions cannot fit");
        }
        for (uint8_t i = 0; i < n; ++i) {
          uint8_t major = *r.U8("major");
          uint8_t minor = *r.U8("minor");
          b.versions.emplace_back(major, minor);
        }
      }
      pdu.body = std::move(b);
      break;
    }
    case PduType::kRequest: {
      RequestBody b;
      COMSEC_ASSIGN_OR_RETURN(b.alloc_hint, r.U32("alloc_hint"));
      COMSEC_ASSIGN_OR_RETURN(b.context_id, r.U16("p_cont_id"));
      COMSEC_ASSIGN_OR_RETURN(b.opnum, r.U16("opnum"));
      if (h.pfc_flags & PFC_OBJECT_UUID) {
        COMSEC_ASSIGN_OR_RETURN(b.object, r.Uuid("object"));
      }
      COMSEC_ASSIGN_OR_RETURN(b.stub, stub_of(r));
      pdu.body = std::move(b);
      break;
    }
    case PduType::kResponse: {
      ResponseBody b;
      COMSEC_ASSIGN_OR_RETURN(b.alloc_hint, r.U32("alloc_hint"));
      COMSEC_ASSIGN_OR_RETURN(b.context_id, r.U16("p_cont_id"));
      COMSEC_ASSIGN_OR_RETURN(b.cancel_count, r.U8("cancel_count"));
      COMSEC_RETURN_IF_ERROR(r.Skip(1, "reserved"));
      COMSEC_ASSIGN_OR_RETURN(b.stub, stub_of(r));
      pdu.body = std::move(b);
      break;
    }
    case PduType::kFault: {
      FaultBody b;
      COMSEC_ASSIGN_OR_RETURN(b.alloc_hint, r.U32("alloc_hint"));
      COMSEC_ASSIGN_OR_RETURN(b.context_id, r.U16("p_cont_id"));
      COMSEC_ASSIGN_OR_RETURN(b.cancel_count, r.U8("cancel_count"));
      COMSEC_RETURN_IF_ERROR(r.Skip(1, "reserved"));
      COMSEC_ASSIGN_OR_RETURN(b.status, r.U32("status"));
      // The trailing reserved word is optional in what peers send.
      if (r.remaining() >= 4) (void)r.Skip(4, "reserved");
      COMSEC_ASSIGN_OR_RETURN(b.stub, stub_of(r));
      pdu.body = std::move(b);
      break;
    }
    case PduType::kAuth3:
      // Four bytes of padding precede the verifier ([MS-RPCE] 2.2.2.10);
      // tolerate senders that omit them.
      (void)r.Rest();
      pdu.body = EmptyBody{};
      break;
    case PduType::kShutdown:
    case PduType::kCoCancel:
    case PduType::kOrphaned:
      (void)r.Rest();
      pdu.body = EmptyBody{};
      break;
    default:
      return Status(RPC_S_PROTOCOL_ERROR,
                    "PDU: type " + std::to_string(static_cast<int>(h.type)) +
                        " is not a connection-oriented PDU")
          .WithPosition(2);
  }
  return pdu;
}

namespace {

void WriteSyntax(ByteWriter& w, const SyntaxId& s) {
  w.Bytes(s.uuid.ToBytes());
  w.U16Le(s.major);
  w.U16Le(s.minor);
}

}  // namespace

std::vector<uint8_t> EncodePdu(const Pdu& pdu) {
  ByteWriter w(64);
  const PduHeader& h = pdu.header;
  w.U8(h.rpc_vers);
  w.U8(h.rpc_vers_minor);
  w.U8(static_cast<uint8_t>(h.type));
  w.U8(h.pfc_flags);
  w.U8(0x10);
  w.U8(0);
  w.U8(0);
  w.U8(0);
  w.U16Le(0);  // frag_length, patched below
  w.U16Le(0);  // auth_length
  w.U32Le(h.call_id);
  bool has_stub = false;
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, BindBody>) {
          w.U16Le(b.max_xmit_frag);
          w.U16Le(b.max_recv_frag);
          w.U32Le(b.assoc_group_id);
          w.U8(static_cast<uint8_t>(b.contexts.size()));
          w.Zeros(3);
          for (const ContextElement& c : b.contexts) {
            w.U16Le(c.context_id);
            w.U8(static_cast<uint8_t>(c.transfer_syntaxes.size()));
            w.U8(0);
            WriteSyntax(w, c.abstract_syntax);
            for (const SyntaxId& s : c.transfer_syntaxes) WriteSyntax(w, s);
          }
        } else if constexpr (std::is_same_v<T, BindAckBody>) {
          w.U16Le(b.max_xmit_frag);
          w.U16Le(b.max_recv_frag);
          w.U32Le(b.assoc_group_id);
          if (b.secondary_address.empty()) {
            w.U16Le(0);
          } else {
            w.U16Le(static_cast<uint16_t>(b.secondary_address.size() + 1));
            w.Bytes(std::span<const uint8_t>(
                reinterpret_cast<const uint8_t*>(b.secondary_address.data()),
                b.secondary_address.size()));
            w.U8(0);
          }
          while (w.size() % 4) w.U8(0);
          w.U8(static_cast<uint8_t>(b.results.size()));
          w.Zeros(3);
          for (const ContextResultEntry& e : b.results) {
            w.U16Le(static_cast<uint16_t>(e.result));
            w.U16Le(e.reason);
            WriteSyntax(w, e.transfer_syntax);
          }
        } else if constexpr (std::is_same_v<T, BindNakBody>) {
          w.U16Le(b.reason);
          w.U8(static_cast<uint8_t>(b.versions.size()));
          for (const auto& [major, minor] : b.versions) {
            w.U8(major);
            w.U8(minor);
          }
        } else if constexpr (std::is_same_v<T, RequestBody>) {
          w.U32Le(b.alloc_hint);
          w.U16Le(b.context_id);
          w.U16Le(b.opnum);
          if (b.object) w.Bytes(b.object->ToBytes());
          w.Bytes(b.stub);
          has_stub = true;
        } else if constexpr (std::is_same_v<T, ResponseBody>) {
          w.U32Le(b.alloc_hint);
          w.U16Le(b.context_id);
          w.U8(b.cancel_count);
          w.U8(0);
          w.Bytes(b.stub);
          has_stub = true;
        } else if constexpr (std::is_same_v<T, FaultBody>) {
          w.U32Le(b.alloc_hint);
          w.U16Le(b.context_id);
          w.U8(b.cancel_count);
          w.U8(0);
          w.U32Le(b.status);
          w.U32Le(0);
          w.Bytes(b.stub);
          has_stub = true;
        } else if (h.type == PduType::kAuth3) {
          w.Zeros(4);
        }
      },
      pdu.body);
  if (pdu.auth) {
    // The sec_trailer starts on a 4-byte boundary; a stub carries the
    // padding and says so in auth_pad_length.
    uint8_t pad = static_cast<uint8_t>((4 - w.size() % 4) % 4);
    w.Zeros(pad);
    const SecTrailer& s = *pdu.auth;
    w.U8(s.auth_type);
    w.U8(s.auth_level);
    w.U8(has_stub ? pad : 0);
    w.U8(s.auth_reserved);
    w.U32Le(s.auth_context_id);
    w.Bytes(s.auth_value);
    w.PatchU16Le(10, static_cast<uint16_t>(s.auth_value.size()));
  }
  w.PatchU16Le(8, static_cast<uint16_t>(w.size()));
  return std::move(w).Take();
}

}  // namespace comsec::rpc
