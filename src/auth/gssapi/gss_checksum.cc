#include "comsec/auth/gssapi/gss_checksum.h"

#include <gssapi/gssapi.h>

#include <string>

#include "comsec/base/byte_reader.h"

namespace comsec::auth::gssapi {

Result<GssChecksum> ParseGssChecksum(std::span<const uint8_t> bytes) {
  ByteReader r(bytes, "GSS authenticator checksum");
  if (bytes.size() < 24) {
    return r.Error(SEC_E_INVALID_TOKEN, "it has " + std::to_string(bytes.size()) +
                                            " bytes, fewer than the 24 of Lgth, Bnd and Flags");
  }
  COMSEC_ASSIGN_OR_RETURN(uint32_t lgth, r.U32Le());
  if (lgth != 16) {
    return r.Error(SEC_E_INVALID_TOKEN, "its channel binding length is " + std::to_string(lgth) +
                                            ", not 16 (RFC 4121 4.1.1)");
  }
  COMSEC_RETURN_IF_ERROR(r.Skip(16));
  GssChecksum c;
  COMSEC_ASSIGN_OR_RETURN(c.flags, r.U32Le());
  if (!(c.flags & GSS_C_DELEG_FLAG)) return c;
  if (r.remaining() < 4) {
    return r.Error(SEC_E_INVALID_TOKEN, "it has GSS_C_DELEG_FLAG but no delegation field");
  }
  COMSEC_ASSIGN_OR_RETURN(uint16_t option, r.U16Le());
  if (option != 1) {
    return r.Error(SEC_E_INVALID_TOKEN,
                   "its delegation option is " + std::to_string(option) + ", not 1");
  }
  COMSEC_ASSIGN_OR_RETURN(uint16_t length, r.U16Le());
  if (length == 0) return r.Error(SEC_E_INVALID_TOKEN, "its delegation field is empty");
  if (length > r.remaining()) {
    return r.Error(SEC_E_INVALID_TOKEN, "its delegation field of " + std::to_string(length) +
                                            " bytes overruns it by " +
                                            std::to_string(length - r.remaining()));
  }
  COMSEC_ASSIGN_OR_RETURN(c.delegation, r.Bytes(length));
  return c;
}

namespace {

// One DER TLV at the start of `in`: its tag byte, its contents and the
// whole element. Single-byte tags only (Kerberos uses no others here).
struct Tlv {
  uint8_t tag = 0;
  std::span<const uint8_t> contents;
  std::span<const uint8_t> whole;
};

Result<Tlv> ReadTlv(std::span<const uint8_t> in, const char* what) {
  auto bad = [&](const std::string& why) {
    return Status(SEC_E_INVALID_TOKEN, std::string("AP-REQ: ") + what + ": " + why);
  };
  if (in.size() < 2) return bad("truncated before its length");
  Tlv t;
  t.tag = in[0];
  if ((t.tag & 0x1F) == 0x1F) return bad("multi-byte tag");
  size_t pos = 1;
  size_t length = in[pos++];
  if (length & 0x80) {
    const size_t count = length & 0x7F;
    if (count == 0) return bad("indefinite length (not DER)");
    if (count > 4) return bad("length of " + std::to_string(count) + " bytes");
    if (in.size() - pos < count) return bad("truncated inside its length");
    length = 0;
    for (size_t i = 0; i < count; ++i) length = (length << 8) | in[pos++];
  }
  if (length > in.size() - pos) {
    return bad("length " + std::to_string(length) + " overruns the " +
               std::to_string(in.size() - pos) + " bytes left");
  }
  t.contents = in.subspan(pos, length);
  t.whole = in.first(pos + length);
  return t;
}

}  // namespace

Result<std::span<const uint8_t>> ApReqTicket(std::span<const uint8_t> ap_req) {
  COMSEC_ASSIGN_OR_RETURN(Tlv outer, ReadTlv(ap_req, "the message"));
  if (outer.tag != 0x6E) {
    return Status(SEC_E_INVALID_TOKEN, "AP-REQ: its tag " + std::to_string(outer.tag) +
                                           " is not [APPLICATION 14] (110)");
  }
  COMSEC_ASSIGN_OR_RETURN(Tlv seq, ReadTlv(outer.contents, "the SEQUENCE"));
  if (seq.tag != 0x30) return Status(SEC_E_INVALID_TOKEN, "AP-REQ: no SEQUENCE inside");
  std::span<const uint8_t> rest = seq.contents;
  while (!rest.empty()) {
    COMSEC_ASSIGN_OR_RETURN(Tlv field, ReadTlv(rest, "a field"));
    rest = rest.subspan(field.whole.size());
    if (field.tag != 0xA3) continue;
    COMSEC_ASSIGN_OR_RETURN(Tlv ticket, ReadTlv(field.contents, "the ticket"));
    if (ticket.tag != 0x61) {
      return Status(SEC_E_INVALID_TOKEN, "AP-REQ: the ticket field holds no [APPLICATION 1]");
    }
    if (ticket.whole.size() != field.contents.size()) {
      return Status(SEC_E_INVALID_TOKEN, "AP-REQ: bytes after the Ticket in its field");
    }
    return ticket.whole;
  }
  return Status(SEC_E_INVALID_TOKEN, "AP-REQ: no ticket field [3]");
}

}  // namespace comsec::auth::gssapi
