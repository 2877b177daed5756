// HResult: Windows's 32-bit status code as a value type, with the names and
// messages Windows uses.
//
// An HRESULT is the contract between every COM method, fault PDU and
// activation reply, so comsec carries it from where an error starts instead of
// mapping at each edge. Values and names follow winerror.h ([MS-ERREF] 2.1);
// Win32 and RPC status codes become HRESULTs through HRESULT_FROM_WIN32
// ([MS-ERREF] 2.1.2: 0x8007xxxx).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace comsec {

class HResult {
 public:
  constexpr HResult() = default;
  constexpr explicit HResult(uint32_t value) : value_(value) {}

  // HRESULT_FROM_WIN32: 0 stays S_OK, values that already look like an
  // HRESULT pass through, others become 0x8007xxxx.
  static constexpr HResult FromWin32(uint32_t win32) {
    if (win32 == 0) return HResult(0);
    if (static_cast<int32_t>(win32) < 0) return HResult(win32);
    return HResult((win32 & 0xFFFFu) | (7u << 16) | 0x80000000u);
  }

  constexpr uint32_t value() const { return value_; }
  constexpr bool Succeeded() const { return static_cast<int32_t>(value_) >= 0; }
  constexpr bool Failed() const { return !Succeeded(); }
  constexpr uint16_t Facility() const { return (value_ >> 16) & 0x1FFF; }
  constexpr uint16_t Code() const { return value_ & 0xFFFF; }

  // The Windows constant name ("E_ACCESSDENIED"), or "" when comsec does not
  // know the value.
  std::string_view Name() const;
  // Windows's message text for the value, or "" when unknown.
  std::string_view Message() const;
  // "0x80070005" — eight lowercase hex digits, as Windows tools print it.
  std::string Hex() const;
  // "E_ACCESSDENIED (0x80070005)", or just the hex form when unnamed.
  std::string ToString() const;

  // Looks a code up by its name (case-sensitive, Windows spelling).
  static bool FromName(std::string_view name, HResult* out);

  friend constexpr bool operator==(HResult a, HResult b) {
    return a.value_ == b.value_;
  }

 private:
  uint32_t value_ = 0;
};

// One entry of the table of known codes (hresult_table.cc). Sorted by value;
// several names may share a value (aliases), the first is canonical.
struct HResultInfo {
  uint32_t value;
  const char* name;
  const char* message;
};

namespace internal {
// The whole table, sorted by value then by preference.
const HResultInfo* HResultTable(size_t* count);
}  // namespace internal

// The codes comsec's own code returns. The table holds many more.
inline constexpr HResult S_OK{0x00000000u};
inline constexpr HResult S_FALSE{0x00000001u};
inline constexpr HResult E_NOTIMPL{0x80004001u};
inline constexpr HResult E_NOINTERFACE{0x80004002u};
inline constexpr HResult E_POINTER{0x80004003u};
inline constexpr HResult E_ABORT{0x80004004u};
inline constexpr HResult E_FAIL{0x80004005u};
inline constexpr HResult E_UNEXPECTED{0x8000FFFFu};
inline constexpr HResult E_ACCESSDENIED{0x80070005u};
inline constexpr HResult E_HANDLE{0x80070006u};
inline constexpr HResult E_OUTOFMEMORY{0x8007000Eu};
inline constexpr HResult E_INVALIDARG{0x80070057u};

// COM marshaling (winerror.h RPC_E_*): a malformed OBJREF, as
// CoUnmarshalInterface reports it (com/objref.h).
inline constexpr HResult RPC_E_INVALID_OBJREF{0x8001011Du};
// CoGetCallContext outside a call, and a call context used after its call
// returned (R91).
inline constexpr HResult RPC_E_NO_CONTEXT{0x8001011Eu};
inline constexpr HResult RPC_E_CALL_COMPLETE{0x80010117u};

// The COM runtime's answers (winerror.h), as COM's own functions return
// them (issue 13).
inline constexpr HResult RPC_E_CHANGED_MODE{0x80010106u};
inline constexpr HResult RPC_E_DISCONNECTED{0x80010108u};
inline constexpr HResult RPC_E_WRONG_THREAD{0x8001010Eu};
inline constexpr HResult RPC_E_INVALID_IPID{0x80010113u};
inline constexpr HResult RPC_E_TOO_LATE{0x80010119u};
inline constexpr HResult CO_E_NOTINITIALIZED{0x800401F0u};
inline constexpr HResult CO_E_OBJNOTREG{0x800401FBu};
inline constexpr HResult CO_E_OBJISREG{0x800401FCu};
inline constexpr HResult CO_E_OBJNOTCONNECTED{0x800401FDu};
inline constexpr HResult CLASS_E_NOAGGREGATION{0x80040110u};
inline constexpr HResult CLASS_E_CLASSNOTAVAILABLE{0x80040111u};
inline constexpr HResult REGDB_E_CLASSNOTREG{0x80040154u};
inline constexpr HResult CO_E_SERVER_EXEC_FAILURE{0x80080005u};
// A RunAs identity the SCM cannot launch a server as (winerror.h; R128):
// no such account, no one logged on for "Interactive User", SYSTEM.
inline constexpr HResult CO_E_RUNAS_LOGON_FAILURE{0x8000401Au};
// Activation (R134).
inline constexpr HResult CO_S_NOTALLINTERFACES{0x00080012u};
inline constexpr HResult CO_E_CANT_REMOTE{0x80004013u};
inline constexpr HResult CO_E_APPNOTFOUND{0x800401F5u};
// In-process servers (com/inproc_server.h): the library cannot be loaded;
// it does not export DllGetClassObject.
inline constexpr HResult CO_E_DLLNOTFOUND{0x800401F8u};
inline constexpr HResult CO_E_ERRORINDLL{0x800401F9u};

// The Win32 and RPC codes (HRESULT_FROM_WIN32 of ERROR_*, RPC_S_*, ...)
// are in base/win32_error.h.

// Security-package failures (winerror.h SEC_E_*), as SSPI returns them.
inline constexpr HResult SEC_E_UNSUPPORTED_FUNCTION{0x80090302u};
inline constexpr HResult SEC_E_TARGET_UNKNOWN{0x80090303u};
inline constexpr HResult SEC_E_INTERNAL_ERROR{0x80090304u};
inline constexpr HResult SEC_E_INVALID_TOKEN{0x80090308u};
inline constexpr HResult SEC_E_LOGON_DENIED{0x8009030Cu};
inline constexpr HResult SEC_E_NO_CREDENTIALS{0x8009030Eu};
inline constexpr HResult SEC_E_UNKNOWN_CREDENTIALS{0x8009030Du};
inline constexpr HResult SEC_E_MESSAGE_ALTERED{0x8009030Fu};
inline constexpr HResult SEC_E_OUT_OF_SEQUENCE{0x80090310u};
inline constexpr HResult SEC_E_NO_AUTHENTICATING_AUTHORITY{0x80090311u};
inline constexpr HResult SEC_E_CONTEXT_EXPIRED{0x80090317u};
inline constexpr HResult SEC_E_WRONG_PRINCIPAL{0x80090322u};
inline constexpr HResult SEC_E_TIME_SKEW{0x80090324u};
inline constexpr HResult SEC_E_ALGORITHM_MISMATCH{0x80090331u};

}  // namespace comsec
