// Fuzz target: binary self-relative security descriptors ([MS-DTYP] 2.4.6)
// as they arrive in registry values and packets. A descriptor that decodes
// must re-encode to bytes that decode to the same descriptor.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/security/access_check.h"
#include "comsec/security/com_rights.h"
#include "comsec/security/sddl.h"
#include "comsec/security/well_known_sids.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::security;
  auto sd = SecurityDescriptor::Decode(std::span<const uint8_t>(data, size));
  if (!sd.ok()) return 0;
  if (!sd->CheckEncodable().ok()) abort();
  auto again = SecurityDescriptor::Decode(sd->Encode());
  if (!again.ok()) abort();
  // The decoded form may drop ACL slack and unused parts, but never content.
  if (!(again->owner == sd->owner) || !(again->group == sd->group) ||
      !(again->dacl == sd->dacl) || !(again->sacl == sd->sacl)) {
    abort();
  }
  // Exercise the consumers of decoded descriptors too.
  (void)FormatSddl(*sd);
  (void)ValidateComSecurityDescriptor(*sd);
  Token token = Token::ForAuthenticatedUser(UnixUserSid(1000), {},
                                            LogonKind::kNetwork);
  (void)ComAccessCheck(*sd, token, COM_RIGHTS_EXECUTE | COM_RIGHTS_EXECUTE_REMOTE);
  return 0;
}
