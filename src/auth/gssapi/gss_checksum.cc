#include "comsec/auth/gssapi/gss_checksum.h"

#include <gssapi/gssapi.h>

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

}  // namespace comsec::auth::gssapi
