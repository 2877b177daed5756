// ORPCTHIS/ORPCTHAT from untrusted request and reply stubs
// (com/orpc_this_that.h): decode in either byte order; what decodes
// re-encodes and decodes to the same header.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "comsec/com/orpc_this_that.h"

using namespace comsec;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  ndr::DataRep rep{(data[0] & 0x80) == 0};
  std::span<const uint8_t> bytes(data + 1, size - 1);
  if (data[0] & 1) {
    auto d = com::DecodeOrpcThat(bytes, rep);
    if (!d.ok()) return 0;
    if (d->params_offset > bytes.size()) std::abort();
    std::vector<uint8_t> out;
    com::EncodeOrpcThat(d->header, out);
    auto again = com::DecodeOrpcThat(out, ndr::DataRep{});
    if (!again.ok() || again->header != d->header || again->params_offset != out.size()) {
      std::abort();
    }
  } else {
    auto d = com::DecodeOrpcThis(bytes, rep);
    if (!d.ok()) return 0;
    if (d->params_offset > bytes.size()) std::abort();
    std::vector<uint8_t> out;
    com::EncodeOrpcThis(d->header, out);
    auto again = com::DecodeOrpcThis(out, ndr::DataRep{});
    if (!again.ok() || again->header != d->header || again->params_offset != out.size()) {
      std::abort();
    }
  }
  return 0;
}
