// The Win32 and RPC status codes comsec returns, each named as winerror.h
// names it and carried as the HRESULT that HRESULT_FROM_WIN32 makes of it
// ([MS-ERREF] 2.1.2: 0x8007xxxx). One header, so that no code spells a bare
// number (FromWin32(1717)) and a test (Win32Error.EveryNameIsWindows's)
// checks each name against base/hresult_table.cc.
//
// A few share their value with an E_ code of hresult.h: ERROR_ACCESS_DENIED
// is E_ACCESSDENIED, ERROR_INVALID_HANDLE E_HANDLE, ERROR_OUTOFMEMORY
// E_OUTOFMEMORY. HResult::Name() gives the E_ form (the table's canonical
// name); use whichever the API being mirrored documents.
//
// The DCE fault statuses that travel in fault PDUs (nca_s_*) are wire
// values, not HRESULTs; they live in rpc/pdu.h.
#pragma once

#include "comsec/base/hresult.h"

namespace comsec {

// ==== Win32 (winerror.h ERROR_*) =============================================

inline constexpr HResult ERROR_ACCESS_DENIED = HResult::FromWin32(5);
inline constexpr HResult ERROR_INVALID_HANDLE = HResult::FromWin32(6);
inline constexpr HResult ERROR_OUTOFMEMORY = HResult::FromWin32(14);
inline constexpr HResult ERROR_INSUFFICIENT_BUFFER = HResult::FromWin32(122);
// Another writer holds the store.
inline constexpr HResult ERROR_BUSY = HResult::FromWin32(170);
inline constexpr HResult ERROR_REGISTRY_CORRUPT = HResult::FromWin32(1015);
inline constexpr HResult ERROR_REGISTRY_IO_FAILED = HResult::FromWin32(1016);
inline constexpr HResult ERROR_NOT_FOUND = HResult::FromWin32(1168);
inline constexpr HResult ERROR_USER_EXISTS = HResult::FromWin32(1316);
inline constexpr HResult ERROR_NO_SUCH_USER = HResult::FromWin32(1317);
inline constexpr HResult ERROR_GROUP_EXISTS = HResult::FromWin32(1318);
inline constexpr HResult ERROR_NO_SUCH_GROUP = HResult::FromWin32(1319);
inline constexpr HResult ERROR_LOGON_FAILURE = HResult::FromWin32(1326);
inline constexpr HResult ERROR_NONE_MAPPED = HResult::FromWin32(1332);
inline constexpr HResult ERROR_INVALID_ACL = HResult::FromWin32(1336);
inline constexpr HResult ERROR_INVALID_SID = HResult::FromWin32(1337);
inline constexpr HResult ERROR_INVALID_SECURITY_DESCR = HResult::FromWin32(1338);
// A wait for the peer (a fragment, the handshake) ran out.
inline constexpr HResult ERROR_TIMEOUT = HResult::FromWin32(1460);

// ==== RPC runtime (RPC_S_*, RPC_X_*, EPT_S_*) ================================

inline constexpr HResult RPC_S_INVALID_STRING_BINDING = HResult::FromWin32(1700);
inline constexpr HResult RPC_S_PROTSEQ_NOT_SUPPORTED = HResult::FromWin32(1703);
// The server does not offer the interface (a fault nca_s_unknown_if).
inline constexpr HResult RPC_S_UNKNOWN_IF = HResult::FromWin32(1717);
// A listener could not be created, or its directory is not safe.
inline constexpr HResult RPC_S_CANT_CREATE_ENDPOINT = HResult::FromWin32(1720);
// Nothing answers at the endpoint.
inline constexpr HResult RPC_S_SERVER_UNAVAILABLE = HResult::FromWin32(1722);
// The connection broke during a call.
inline constexpr HResult RPC_S_CALL_FAILED = HResult::FromWin32(1726);
// A PDU breaks C706 / [MS-RPCE] (a fault nca_s_proto_error).
inline constexpr HResult RPC_S_PROTOCOL_ERROR = HResult::FromWin32(1728);
inline constexpr HResult RPC_S_UNSUPPORTED_TYPE = HResult::FromWin32(1732);
// What MIDL's stubs raise when a value to be sent is inconsistent: a union
// whose discriminant selects no arm, an array disagreeing with its
// size_is/length_is, an enum value beyond 16 bits.
inline constexpr HResult RPC_S_INVALID_TAG = HResult::FromWin32(1733);
inline constexpr HResult RPC_S_INVALID_BOUND = HResult::FromWin32(1734);
// Another live server already listens on the endpoint.
inline constexpr HResult RPC_S_DUPLICATE_ENDPOINT = HResult::FromWin32(1740);
// The opnum is not in the interface (a fault nca_s_op_rng_error).
inline constexpr HResult RPC_S_PROCNUM_OUT_OF_RANGE = HResult::FromWin32(1745);
// A blanket names an authentication service this process has no package
// for.
inline constexpr HResult RPC_S_UNKNOWN_AUTHN_SERVICE = HResult::FromWin32(1747);
// The endpoint mapper's refusals as Windows reports them; rpc/epmapper.h
// has the values that travel on the wire.
inline constexpr HResult EPT_S_CANT_PERFORM_OP = HResult::FromWin32(1752);
inline constexpr HResult EPT_S_NOT_REGISTERED = HResult::FromWin32(1753);
inline constexpr HResult RPC_S_NO_CONTEXT_AVAILABLE = HResult::FromWin32(1765);
inline constexpr HResult RPC_X_NULL_REF_POINTER = HResult::FromWin32(1780);
inline constexpr HResult RPC_X_ENUM_VALUE_OUT_OF_RANGE = HResult::FromWin32(1781);
// NDR data that cannot be decoded (a fault nca_s_fault_ndr).
inline constexpr HResult RPC_X_BAD_STUB_DATA = HResult::FromWin32(1783);
// The security package failed (a fault nca_s_fault_sec_pkg_error).
inline constexpr HResult RPC_S_SEC_PKG_ERROR = HResult::FromWin32(1825);
// A type serialization stream ([MS-RPCE] 2.2.6) of a version we do not
// read, or whose headers are malformed.
inline constexpr HResult RPC_X_WRONG_ES_VERSION = HResult::FromWin32(1828);
inline constexpr HResult EPT_S_CANT_CREATE = HResult::FromWin32(1899);

}  // namespace comsec
