// Fuzz target: connection-oriented PDU decoding. A fragment that decodes
// must re-encode to bytes that decode and re-encode identically.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/rpc/pdu_codec.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec::rpc;
  auto pdu = DecodePdu(std::span<const uint8_t>(data, size));
  if (!pdu.ok()) return 0;
  auto once = EncodePdu(*pdu);
  if (once.size() > 0xFFFF) return 0;  // counts that only fit as decoded
  auto again = DecodePdu(once);
  if (!again.ok()) abort();
  if (EncodePdu(*again) != once) abort();
  return 0;
}
