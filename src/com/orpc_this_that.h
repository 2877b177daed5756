// ORPCTHIS and ORPCTHAT, the implicit first argument and result of every
// ORPC call ([MS-DCOM] 2.2.13): the COM version, flags, the causality id
// and out-of-band extensions. The COM channel puts them before a method's
// parameters and takes them off; generated proxies and stubs then read the
// parameters from CallReply::stub_offset / CallContext::stub_offset, so
// an ORPCTHIS of any length keeps NDR alignment relative to the stub.
//
// Liberal in what is accepted: versions 5.1-5.7, any flags, unknown
// extensions kept (and ignored), a non-NULL empty extension array; exact in
// what is sent: 5.7, no extensions unless asked.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "comsec/base/guid.h"
#include "comsec/base/hresult.h"
#include "comsec/base/result.h"
#include "comsec/ndr/data_rep.h"

namespace comsec::com {

inline constexpr uint16_t kComMajorVersion = 5;
inline constexpr uint16_t kComMinorVersion = 7;
// The lowest minor version comsec serves (Windows NT 4.0's, 5.1).
inline constexpr uint16_t kComMinMinorVersion = 1;

inline constexpr HResult RPC_E_VERSION_MISMATCH{0x80010110u};
inline constexpr HResult RPC_E_INVALID_HEADER{0x80010111u};

// ORPCTHIS.flags ([MS-DCOM] 2.2.13.3).
inline constexpr uint32_t ORPCF_NULL = 0x0;
inline constexpr uint32_t ORPCF_LOCAL = 0x1;

// The most extensions one call may carry; Windows sends at most a few.
inline constexpr size_t kMaxOrpcExtensions = 64;

struct OrpcExtension {
  Guid id;
  std::vector<uint8_t> data;  // `size` bytes, without the rounding pad
  friend bool operator==(const OrpcExtension&, const OrpcExtension&) = default;
};

struct OrpcThis {
  uint16_t major = kComMajorVersion;
  uint16_t minor = kComMinorVersion;
  uint32_t flags = ORPCF_NULL;
  Guid cid;  // causality: carried unchanged into the calls this one makes
  // Whether the extension array pointer was non-NULL (an empty array is
  // accepted and kept).
  bool has_extensions = false;
  std::vector<OrpcExtension> extensions;
  friend bool operator==(const OrpcThis&, const OrpcThis&) = default;
};

struct OrpcThat {
  uint32_t flags = ORPCF_NULL;
  bool has_extensions = false;
  std::vector<OrpcExtension> extensions;
  friend bool operator==(const OrpcThat&, const OrpcThat&) = default;
};

// A decoded header and where the method's parameters start in the stub.
template <class T>
struct Decoded {
  T header;
  size_t params_offset = 0;
};

// The header at the start of a request stub, in the sender's byte order.
// Malformed NDR is RPC_X_BAD_STUB_DATA; the version is not checked here.
Result<Decoded<OrpcThis>> DecodeOrpcThis(std::span<const uint8_t> stub, ndr::DataRep rep);
Result<Decoded<OrpcThat>> DecodeOrpcThat(std::span<const uint8_t> stub, ndr::DataRep rep);

// Appends the header's NDR (little-endian) to `out`, which must be empty:
// the header starts the stub.
void EncodeOrpcThis(const OrpcThis& header, std::vector<uint8_t>& out);
void EncodeOrpcThat(const OrpcThat& header, std::vector<uint8_t>& out);

// [MS-DCOM] 3.1.1.5.4 / 3.2.4.1.1.2: a server refuses a major version
// other than 5, or a minor version above its own, with
// RPC_E_VERSION_MISMATCH; older minors (5.1 on) are served.
Status CheckComVersion(uint16_t major, uint16_t minor);

}  // namespace comsec::com
