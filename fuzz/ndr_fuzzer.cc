// Fuzz target: the NDR decoder on a representative type (see
// ndr_sample_type.h), in both byte orders, with a round trip: whatever
// decodes must encode and decode to the same value (case 37).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "ndr_sample_type.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::ndr;
  if (size < 1) return 0;
  DataRep rep{(data[0] & 1) == 0};
  Decoder d(std::span<const uint8_t>(data + 1, size - 1), rep);
  auto sample = sample::Read(d);
  if (!sample.ok()) return 0;
  Encoder e;
  sample::Write(e, *sample);
  Decoder again(e.bytes());
  auto back = sample::Read(again);
  if (!back.ok() || !(*back == *sample)) abort();
  return 0;
}
