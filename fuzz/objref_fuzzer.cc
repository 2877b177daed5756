// Fuzz target: DecodeObjref (com/objref.h) on arbitrary bytes. Whatever the
// input, the decoder returns an Objref or RPC_E_INVALID_OBJREF; what it
// returns re-encodes to bytes that decode to the same Objref (cbExtension,
// which is sent as 0, aside) and re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/com/objref.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec;
  auto first = com::DecodeObjref(std::span(data, size));
  if (!first.ok()) {
    if (!(first.status().code() == RPC_E_INVALID_OBJREF)) std::abort();
    return 0;
  }
  com::Objref expected = *first;
  expected.custom_extension = 0;
  const auto bytes = com::EncodeObjref(*first);
  auto second = com::DecodeObjref(bytes);
  if (!second.ok()) std::abort();
  if (!(*second == expected)) std::abort();
  if (com::EncodeObjref(*second) != bytes) std::abort();
  return 0;
}
