// Fuzz target: type serialization version 1 headers ([MS-RPCE] 2.2.6).
// Whatever unpickles must lie inside the input, and re-pickling a
// little-endian body must unpickle to the same body followed by zero
// padding to a multiple of 8 bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <algorithm>
#include <span>
#include <vector>

#include "comsec/ndr/type_serialization.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::ndr;
  std::span<const uint8_t> in(data, size);
  auto t = UnpickleType(in);
  if (!t.ok()) return 0;
  if (t->ndr.data() < data || t->ndr.data() + t->ndr.size() > data + size) abort();
  if (!t->rep.little_endian) return 0;
  std::vector<uint8_t> stream = PickleType(t->ndr);
  auto again = UnpickleType(stream);
  if (!again.ok() || again->ndr.size() != ((t->ndr.size() + 7) & ~size_t{7}) ||
      !std::equal(t->ndr.begin(), t->ndr.end(), again->ndr.begin()) ||
      std::any_of(again->ndr.begin() + static_cast<ptrdiff_t>(t->ndr.size()), again->ndr.end(),
                  [](uint8_t b) { return b != 0; })) {
    abort();
  }
  return 0;
}
