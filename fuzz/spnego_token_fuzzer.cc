// Fuzz target: SPNEGO's token decoders (auth/negotiate/spnego_token.h).
// The first byte picks the decoder; a decoded token re-encodes to a fixed
// point (encode(decode(encode(decode(x)))) == encode(decode(x))), and the
// MechTypeList kept for the mechListMIC is the one that was read.
#include <cstddef>
#include <cstdint>
#include <span>

#include "comsec/auth/negotiate/spnego_token.h"

namespace {

using namespace comsec::auth::negotiate;

void Init(std::span<const uint8_t> in) {
  auto m = DecodeInitialToken(in);
  if (!m.ok()) return;
  if (m->mech_types.empty() || m->mech_types_der.empty()) __builtin_trap();
  auto once = EncodeInitialToken(*m);
  auto again = DecodeInitialToken(once);
  if (!again.ok() || EncodeInitialToken(*again) != once) __builtin_trap();
  if (again->mech_types != m->mech_types ||
      again->mech_types_der != EncodeMechTypeList(m->mech_types)) {
    __builtin_trap();
  }
}

void Resp(std::span<const uint8_t> in) {
  auto m = DecodeNegTokenResp(in);
  if (!m.ok()) return;
  auto once = EncodeNegTokenResp(*m);
  auto again = DecodeNegTokenResp(once);
  if (!again.ok() || EncodeNegTokenResp(*again) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  if (data[0] & 1) {
    Resp(in);
  } else {
    Init(in);
  }
  return 0;
}
