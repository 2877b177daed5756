// Fuzz target: the krb5 GSS authenticator checksum (RFC 4121 4.1.1) a
// Kerberos server parses to recover a forwarded TGT. A checksum that parses
// has its delegation field inside the input, present exactly when its
// flags say GSS_C_DELEG_FLAG. The same bytes as an AP-REQ (ApReqTicket,
// the evidence ticket of constrained delegation): a ticket found is inside
// the input and starts with [APPLICATION 1].
#include <gssapi/gssapi.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/auth/gssapi/gss_checksum.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto t = comsec::auth::gssapi::ApReqTicket(std::span<const uint8_t>(data, size));
  if (t.ok() && (t->empty() || (*t)[0] != 0x61 || t->data() < data ||
                 t->data() + t->size() > data + size)) {
    abort();
  }
  auto c = comsec::auth::gssapi::ParseGssChecksum(std::span<const uint8_t>(data, size));
  if (!c.ok()) return 0;
  const bool deleg = (c->flags & GSS_C_DELEG_FLAG) != 0;
  if (deleg == c->delegation.empty()) abort();
  if (deleg && (c->delegation.data() < data || c->delegation.data() + c->delegation.size() > data + size)) {
    abort();
  }
  return 0;
}
