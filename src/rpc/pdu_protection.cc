#include "comsec/rpc/pdu_protection.h"

#include "comsec/rpc/pdu_codec.h"

namespace comsec::rpc {

namespace {

// The protected parts of `bytes`, whose verifier holds a signature of
// `signature_size` bytes.
PduRegion RegionOf(std::vector<uint8_t>& bytes, size_t stub_begin, size_t signature_size,
                   const PduAuth& auth) {
  PduRegion region;
  region.pdu = bytes;
  region.stub_begin = stub_begin;
  region.stub_end = bytes.size() - signature_size - kSecTrailerSize;
  region.signature =
      std::span<uint8_t>(bytes.data() + bytes.size() - signature_size, signature_size);
  region.level = auth.level;
  region.header_signing = auth.header_signing;
  return region;
}

}  // namespace

size_t StubOffset(const Pdu& pdu) {
  if (const auto* r = std::get_if<RequestBody>(&pdu.body)) {
    return kHeaderSize + 8 + (r->object ? 16 : 0);
  }
  if (std::holds_alternative<FaultBody>(pdu.body)) return kHeaderSize + 16;
  return kHeaderSize + 8;
}

Result<std::vector<uint8_t>> EncodeProtected(Pdu& pdu, const PduAuth& auth) {
  if (!auth.Signs()) {
    pdu.auth.reset();
    return EncodePdu(pdu);
  }
  const std::vector<uint8_t>* stub = nullptr;
  if (const auto* r = std::get_if<RequestBody>(&pdu.body)) stub = &r->stub;
  if (const auto* r = std::get_if<ResponseBody>(&pdu.body)) stub = &r->stub;
  if (const auto* r = std::get_if<FaultBody>(&pdu.body)) stub = &r->stub;
  const size_t stub_size = stub ? stub->size() : 0;
  const size_t padded = stub_size + (4 - stub_size % 4) % 4;
  const size_t sig = auth.context->SignatureSize(padded);
  SecTrailer t;
  t.auth_type = auth.auth_type;
  t.auth_level = WireAuthnLevel(auth.level);
  t.auth_context_id = auth.context_id;
  t.auth_value.assign(sig, 0);
  pdu.auth = std::move(t);
  std::vector<uint8_t> bytes = EncodePdu(pdu);
  COMSEC_RETURN_IF_ERROR(auth.context->Protect(RegionOf(bytes, StubOffset(pdu), sig, auth)));
  return bytes;
}

Result<std::vector<uint8_t>> VerifyProtected(std::span<const uint8_t> fragment,
                                             const Pdu& pdu, const PduAuth& auth) {
  if (!pdu.auth) return Status(SEC_E_MESSAGE_ALTERED, "the PDU has no verifier");
  const size_t sig = pdu.header.auth_length;
  const size_t stub_begin = StubOffset(pdu);
  if (fragment.size() < stub_begin + kSecTrailerSize + sig) {
    return Status(RPC_S_PROTOCOL_ERROR, "the verifier overlaps the PDU's body");
  }
  const size_t stub_end = fragment.size() - sig - kSecTrailerSize;
  if (!auth.context->AcceptsSignatureSize(sig, stub_end - stub_begin)) {
    return Status(SEC_E_MESSAGE_ALTERED, "a verifier of " + std::to_string(sig) +
                                       " bytes where the package signs with " +
                                       std::to_string(auth.context->SignatureSize(
                                           stub_end - stub_begin)));
  }
  if (pdu.auth->auth_pad_length > stub_end - stub_begin) {
    return Status(RPC_S_PROTOCOL_ERROR, "auth_pad_length exceeds the stub");
  }
  // A private copy: the stub is unsealed in place, and the signature stays
  // where it is (Verify unseals only the stub before it).
  std::vector<uint8_t> copy(fragment.begin(), fragment.end());
  COMSEC_RETURN_IF_ERROR(auth.context->Verify(RegionOf(copy, stub_begin, sig, auth)));
  return std::vector<uint8_t>(
      copy.begin() + static_cast<ptrdiff_t>(stub_begin),
      copy.begin() + static_cast<ptrdiff_t>(stub_end - pdu.auth->auth_pad_length));
}

size_t FragmentOverhead(const PduAuth* auth, bool request, bool has_object,
                        size_t max_frag) {
  size_t overhead = kHeaderSize + 8 + (request && has_object ? 16 : 0);
  if (auth && auth->Signs()) {
    overhead += kSecTrailerSize + 3 + auth->context->SignatureSize(max_frag);
  }
  return overhead;
}

size_t FragmentSize(const PduAuth* auth, bool request, bool has_object,
                    size_t stub_length) {
  const size_t prefix = kHeaderSize + 8 + (request && has_object ? 16 : 0);
  if (!auth || !auth->Signs()) return prefix + stub_length;
  const size_t padded = stub_length + (4 - stub_length % 4) % 4;
  return prefix + padded + kSecTrailerSize + auth->context->SignatureSize(padded);
}

}  // namespace comsec::rpc
