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
#include "comsec/base/win32_error.h"

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

// Decoding fails with base/win32_error.h's RPC_X_BAD_STUB_DATA, as
// Windows's stubs report malformed NDR; a [ref] pointer that is NULL with
// RPC_X_NULL_REF_POINTER; a data representation we do not speak with
// RPC_S_UNSUPPORTED_TYPE.
//
// TODO(cleanup): the old spelling ndr::RPC_X_BAD_STUB_DATA, kept while
// rpc/server_connection.cc (being rewritten) still uses it.
using ::comsec::RPC_X_BAD_STUB_DATA;

}  // namespace comsec::ndr
