#include "comsec/rpc/verification_trailer.h"

#include <cstring>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/win32_error.h"

namespace comsec::rpc {
namespace {

constexpr uint8_t kMagic[8] = {0x8a, 0xe3, 0x13, 0x71, 0x02, 0xf4, 0x36, 0x71};

Result<SyntaxId> ReadSyntax(ByteReader& r) {
  COMSEC_ASSIGN_OR_RETURN(auto b, r.Bytes(16));
  SyntaxId s;
  s.uuid = Guid::FromBytes(b.data());
  COMSEC_ASSIGN_OR_RETURN(s.major, r.U16Le());
  COMSEC_ASSIGN_OR_RETURN(s.minor, r.U16Le());
  return s;
}

// Parses commands starting right after the signature; they must end
// exactly at the end of `bytes` with an END command.
Result<VerificationTrailer> ParseCommands(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "verification trailer");
  VerificationTrailer vt;
  for (;;) {
    COMSEC_ASSIGN_OR_RETURN(uint16_t command, r.U16Le());
    COMSEC_ASSIGN_OR_RETURN(uint16_t length, r.U16Le());
    COMSEC_ASSIGN_OR_RETURN(auto data, r.Bytes(length));
    ByteReader d(data, "verification trailer command");
    switch (command & 0x3FFF) {
      case SEC_VT_COMMAND_BITMASK_1:
        if (length != 4) return d.Error(E_INVALIDARG, "bitmask1 is not 4 bytes");
        vt.bitmask1 = *d.U32Le();
        break;
      case SEC_VT_COMMAND_PCONTEXT: {
        if (length != 40) return d.Error(E_INVALIDARG, "pcontext is not 40 bytes");
        SyntaxId a = *ReadSyntax(d);
        SyntaxId t = *ReadSyntax(d);
        vt.pcontext = std::make_pair(a, t);
        break;
      }
      case SEC_VT_COMMAND_HEADER2: {
        if (length != 16) return d.Error(E_INVALIDARG, "header2 is not 16 bytes");
        VtHeader2 h;
        h.ptype = *d.U8();
        (void)d.Skip(3);
        auto drep = *d.Bytes(4);
        for (int i = 0; i < 4; ++i) h.drep[i] = drep[i];
        h.call_id = *d.U32Le();
        h.context_id = *d.U16Le();
        h.opnum = *d.U16Le();
        vt.header2 = h;
        break;
      }
      default:
        if (command & SEC_VT_MUST_PROCESS_COMMAND) vt.unknown_must_process = true;
        break;
    }
    if (command & SEC_VT_COMMAND_END) break;
  }
  if (r.remaining() != 0) {
    return r.Error(E_INVALIDARG, "bytes follow the END command");
  }
  return vt;
}

}  // namespace

Result<std::optional<VerificationTrailer>> FindVerificationTrailer(
    std::span<const uint8_t> stub) {
  // Search 4-aligned offsets from the end for the signature.
  if (stub.size() < sizeof kMagic + 4) return std::optional<VerificationTrailer>();
  for (size_t off = (stub.size() - sizeof kMagic - 4) & ~size_t{3};; off -= 4) {
    if (std::memcmp(stub.data() + off, kMagic, sizeof kMagic) == 0) {
      auto vt = ParseCommands(stub.subspan(off + sizeof kMagic));
      if (!vt.ok()) {
        return Status(RPC_X_BAD_STUB_DATA,
                      std::string(vt.status().message()));
      }
      vt->offset = off;
      // The alignment padding before the signature stays with the stub:
      // NDR decoders accept trailing zero padding.
      vt->stub_length = off;
      return std::optional<VerificationTrailer>(std::move(*vt));
    }
    if (off == 0) break;
  }
  return std::optional<VerificationTrailer>();
}

void AppendVerificationTrailer(std::vector<uint8_t>& stub,
                               const SyntaxId& abstract,
                               const SyntaxId& transfer, const VtHeader2& h,
                               bool header_signing) {
  ByteWriter w;
  while ((stub.size() + w.size()) % 4) w.U8(0);
  w.Bytes(kMagic);
  if (header_signing) {
    w.U16Le(SEC_VT_COMMAND_BITMASK_1);
    w.U16Le(4);
    w.U32Le(SEC_VT_CLIENT_SUPPORTS_HEADER_SIGNING);
  }
  auto syntax = [&w](const SyntaxId& s) {
    w.Bytes(s.uuid.ToBytes());
    w.U16Le(s.major);
    w.U16Le(s.minor);
  };
  w.U16Le(SEC_VT_COMMAND_PCONTEXT);
  w.U16Le(40);
  syntax(abstract);
  syntax(transfer);
  w.U16Le(SEC_VT_COMMAND_HEADER2 | SEC_VT_COMMAND_END | SEC_VT_MUST_PROCESS_COMMAND);
  w.U16Le(16);
  w.U8(h.ptype);
  w.Zeros(3);
  w.Bytes(h.drep);
  w.U32Le(h.call_id);
  w.U16Le(h.context_id);
  w.U16Le(h.opnum);
  stub.insert(stub.end(), w.bytes().begin(), w.bytes().end());
}

}  // namespace comsec::rpc
