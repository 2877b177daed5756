// Fuzz target: protocol towers from the endpoint mapper's callers. A tower
// that decodes must encode to one that decodes to the same endpoint.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/rpc/tower.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::rpc;
  auto tower = Tower::Decode(std::span<const uint8_t>(data, size));
  if (!tower.ok()) return 0;
  auto again = Tower::Decode(tower->Encode());
  if (!again.ok() || !(again->interface == tower->interface) ||
      again->protseq != tower->protseq) {
    abort();
  }
  return 0;
}
