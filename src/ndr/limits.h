// Limits on what an NDR decoder accepts, and the status NDR failures carry.
//
// A hostile peer controls every count on the wire. Each limit below bounds
// memory or time that a count could otherwise demand; the decoder refuses a
// count before it allocates anything proportional to it (the lesson of
// CVE-2012-1182 and rpc-conformance-cases.md 34–36).
#pragma once

#include <cstddef>
#include <cstdint>

#include "comsec/base/hresult.h"

namespace comsec::ndr {

struct Limits {
  // Nesting of structures, unions and pointers; recursion past this is
  // refused instead of exhausting the stack (case 36).
  size_t max_depth = 64;
  // Elements in one array or string; an allocation of this many elements is
  // the largest a single count can cause.
  size_t max_elements = size_t{1} << 20;
  // Distinct referents of full ([ptr]) pointers tracked for aliasing.
  size_t max_referents = size_t{1} << 16;
};

// RPC_X_BAD_STUB_DATA (1783): the stub received bad data. Every decoding
// failure carries it, as Windows's stubs report malformed NDR.
inline constexpr HResult RPC_X_BAD_STUB_DATA = HResult::FromWin32(1783);
// RPC_X_NULL_REF_POINTER (1780): a [ref] pointer was NULL.
inline constexpr HResult RPC_X_NULL_REF_POINTER = HResult::FromWin32(1780);
// RPC_X_BAD_STUB_DATA's sibling for data representations we do not speak.
inline constexpr HResult RPC_S_UNSUPPORTED_TYPE = HResult::FromWin32(1732);

}  // namespace comsec::ndr
