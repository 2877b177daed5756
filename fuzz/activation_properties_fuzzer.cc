// Fuzz target: the activation properties BLOB codec
// (activation/activation_properties.h) on arbitrary bytes. Whatever the
// input, DecodeActivationPropertiesIn returns every property it promises or
// one of its three refusals; DecodeActivationPropertiesOut the same, and
// what it returns re-encodes to bytes that decode to the same reply and
// re-encode to the same bytes.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "comsec/activation/activation_properties.h"
#include "comsec/base/win32_error.h"

namespace {

bool ExpectedRefusal(const comsec::Status& s) {
  using namespace comsec;
  return s.code() == RPC_E_INVALID_OBJREF || s.code() == RPC_X_BAD_STUB_DATA ||
         s.code() == RPC_X_WRONG_ES_VERSION;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace comsec;
  const std::span<const uint8_t> bytes(data, size);

  auto in = activation::DecodeActivationPropertiesIn(bytes);
  if (!in.ok()) {
    if (!ExpectedRefusal(in.status())) std::abort();
  } else {
    // The promises of a successful decode.
    if (!in->instantiation.pIID || !in->scm_request.remoteRequest) std::abort();
    if (in->order.empty() || in->order.size() > activation::kMaxActPropLimit)
      std::abort();
  }

  auto out = activation::DecodeActivationPropertiesOut(bytes);
  if (!out.ok()) {
    if (!ExpectedRefusal(out.status())) std::abort();
    return 0;
  }
  // What the encoder sends for it: a failed interface carries no OBJREF.
  activation::ActivationPropertiesOut expected = *out;
  for (auto& r : expected.interfaces)
    if (r.hr.Failed()) r.objref.clear();
  auto encoded = activation::EncodeActivationPropertiesOut(*out);
  if (!encoded.ok()) {
    // Only a succeeded interface without an OBJREF is not encodable.
    if (!(encoded.status().code() == E_INVALIDARG)) std::abort();
    return 0;
  }
  auto again = activation::DecodeActivationPropertiesOut(*encoded);
  if (!again.ok()) std::abort();
  if (again->interfaces.size() != expected.interfaces.size()) std::abort();
  for (size_t i = 0; i < expected.interfaces.size(); ++i) {
    const auto& a = again->interfaces[i];
    const auto& b = expected.interfaces[i];
    if (a.iid != b.iid || !(a.hr == b.hr) || a.objref != b.objref) std::abort();
  }
  if (again->oxid != expected.oxid ||
      !(again->oxid_bindings == expected.oxid_bindings) ||
      again->ipid_rem_unknown != expected.ipid_rem_unknown ||
      again->authn_hint != expected.authn_hint ||
      again->server_major != expected.server_major ||
      again->server_minor != expected.server_minor)
    std::abort();
  auto twice = activation::EncodeActivationPropertiesOut(*again);
  if (!twice.ok() || *twice != *encoded) std::abort();
  return 0;
}
