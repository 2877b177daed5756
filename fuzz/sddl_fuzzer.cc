// Fuzz target: SDDL parsing ([MS-DTYP] 2.5.1), with round-trip checks.
// Whatever parses must format, re-parse to the same descriptor, and survive
// the binary form unchanged.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "comsec/security/sddl.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::security;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto sd = ParseSddl(text);
  if (!sd.ok()) return 0;
  auto sddl = FormatSddl(*sd);
  if (!sddl.ok()) abort();  // everything SDDL parses, SDDL can write
  auto again = ParseSddl(*sddl);
  if (!again.ok() || !(*again == *sd)) abort();
  auto decoded = SecurityDescriptor::Decode(sd->Encode());
  if (!decoded.ok()) abort();
  auto sddl2 = FormatSddl(*decoded);
  if (!sddl2.ok() || *sddl2 != *sddl) abort();
  return 0;
}
