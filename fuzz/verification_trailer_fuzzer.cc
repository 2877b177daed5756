// Fuzz target: finding and parsing a verification trailer in a stub.
#include <cstddef>
#include <cstdint>
#include <span>

#include "comsec/rpc/verification_trailer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto vt = comsec::rpc::FindVerificationTrailer(
      std::span<const uint8_t>(data, size));
  if (vt.ok() && vt->has_value() && (*vt)->stub_length > size) __builtin_trap();
  return 0;
}
