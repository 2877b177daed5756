// CLSCTX (wtypesbase.h; R125): where an activation may run, and the flags
// that travel with it. The four server contexts are com/class_table.h's;
// the rest are here, with what the activation request makes of them
// (InstantiationInfoData.actvflags, [MS-DCOM] 2.2.22.2.1).
//
// Thread-safety: constants and a pure function.
#pragma once

#include <cstdint>

#include "comsec/com/class_table.h"

namespace comsec::activation {

using com::CLSCTX_INPROC_HANDLER;
using com::CLSCTX_INPROC_SERVER;
using com::CLSCTX_LOCAL_SERVER;
using com::CLSCTX_REMOTE_SERVER;
inline constexpr uint32_t CLSCTX_NO_FAILURE_LOG = 0x4000;
inline constexpr uint32_t CLSCTX_DISABLE_AAA = 0x8000;
inline constexpr uint32_t CLSCTX_ENABLE_AAA = 0x10000;
inline constexpr uint32_t CLSCTX_FROM_DEFAULT_CONTEXT = 0x20000;
inline constexpr uint32_t CLSCTX_ACTIVATE_32_BIT_SERVER = 0x40000;
inline constexpr uint32_t CLSCTX_ACTIVATE_64_BIT_SERVER = 0x80000;
inline constexpr uint32_t CLSCTX_ACTIVATE_AAA_AS_IU = 0x800000;
// CLSCTX_INPROC_SERVER | CLSCTX_LOCAL_SERVER | CLSCTX_REMOTE_SERVER.
inline constexpr uint32_t CLSCTX_SERVER = 0x15;
// CLSCTX_SERVER | CLSCTX_INPROC_HANDLER.
inline constexpr uint32_t CLSCTX_ALL = 0x17;

// InstantiationInfoData.actvflags (activation_properties.idl).
inline constexpr uint32_t ACTVFLAGS_DISABLE_AAA = 0x2;
inline constexpr uint32_t ACTVFLAGS_ACTIVATE_32_BIT_SERVER = 0x4;
inline constexpr uint32_t ACTVFLAGS_ACTIVATE_64_BIT_SERVER = 0x8;
inline constexpr uint32_t ACTVFLAGS_NO_FAILURE_LOG = 0x20;

// The actvflags a CLSCTX asks for.
constexpr uint32_t ActvFlagsFor(uint32_t clsctx) {
  uint32_t flags = 0;
  if (clsctx & CLSCTX_DISABLE_AAA) flags |= ACTVFLAGS_DISABLE_AAA;
  if (clsctx & CLSCTX_ACTIVATE_32_BIT_SERVER)
    flags |= ACTVFLAGS_ACTIVATE_32_BIT_SERVER;
  if (clsctx & CLSCTX_ACTIVATE_64_BIT_SERVER)
    flags |= ACTVFLAGS_ACTIVATE_64_BIT_SERVER;
  if (clsctx & CLSCTX_NO_FAILURE_LOG) flags |= ACTVFLAGS_NO_FAILURE_LOG;
  return flags;
}

}  // namespace comsec::activation
