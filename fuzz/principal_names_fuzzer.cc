// Fuzz target: Schannel principal names as they arrive from elsewhere (a
// server's OXID security bindings, a proxy's SetBlanket): the msstd and
// fullsic form checks (auth/tls/principal_names.h) scan any bytes and say
// yes or no, never reading past the name.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "comsec/auth/tls/principal_names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view name(reinterpret_cast<const char*>(data), size);
  (void)comsec::auth::tls::IsFullsicName(name);
  (void)comsec::auth::tls::IsMsstdName(name);
  return 0;
}
