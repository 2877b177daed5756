#include "echo_service.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "comsec/base/win32_error.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"

namespace comsec::examples {
namespace {

using rpc::CallContext;
using Stub = std::span<const uint8_t>;
using Reply = Result<std::vector<uint8_t>>;

// Reads a conformant byte array whose size_is is `n`.
Result<std::span<const uint8_t>> ReadBytes(ndr::Decoder& d, uint32_t n) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  if (max_count != n) {
    return d.Error("size_is(" + std::to_string(n) + ") but max_count " +
                   std::to_string(max_count));
  }
  return d.Bytes(max_count);
}

void WriteBytes(ndr::Encoder& e, std::span<const uint8_t> bytes) {
  e.Conformance(static_cast<uint32_t>(bytes.size()));
  e.Bytes(bytes);
}

std::u16string Utf16(const std::string& s) {
  // ASCII is enough for the names WhoAmI reports.
  return std::u16string(s.begin(), s.end());
}

// ==== IComsecEcho =========================================================

Reply Echo(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  COMSEC_ASSIGN_OR_RETURN(auto data, ReadBytes(d, n));
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  WriteBytes(e, data);
  e.I32(0);
  return std::move(e).Take();
}

Reply Add(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(int32_t a, d.I32());
  COMSEC_ASSIGN_OR_RETURN(int32_t b, d.I32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  // Wraps as the C long of the IDL does, without signed overflow.
  e.U32(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
  e.I32(0);
  return std::move(e).Take();
}

Reply WhoAmI(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.Pointer(true);
  e.WString(Utf16(CallerName(call)));
  e.I32(static_cast<int32_t>(security::ToNumber(call.security.authn_level)));
  e.I32(static_cast<int32_t>(call.security.authn_svc));
  e.I32(0);
  return std::move(e).Take();
}

// ==== rpcecho (Samba librpc/idl/echo.idl) =================================

Reply AddOne(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t v, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.U32(v + 1);
  return std::move(e).Take();
}

Reply EchoData(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t len, d.U32());
  COMSEC_ASSIGN_OR_RETURN(auto data, ReadBytes(d, len));
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  WriteBytes(e, data);
  return std::move(e).Take();
}

Reply SinkData(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t len, d.U32());
  COMSEC_ASSIGN_OR_RETURN(auto data, ReadBytes(d, len));
  (void)data;
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  return std::vector<uint8_t>{};
}

Reply SourceData(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t len, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  // The response must fit the client's limits; refuse absurd requests.
  if (len > 16 * 1024 * 1024) {
    return Status(ERROR_OUTOFMEMORY, "SourceData: too much data requested");
  }
  std::vector<uint8_t> data(len);
  for (uint32_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>(i & 0xff);
  ndr::Encoder e;
  WriteBytes(e, data);
  return std::move(e).Take();
}

Reply TestCall(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(std::u16string s1, d.WString());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.Pointer(true);
  e.WString(s1);
  return std::move(e).Take();
}

// typedef struct { uint32 x; [size_is(x)] uint16 surrounding[*]; }
//   echo_Surrounding;  — a conformant structure: max_count leads.
// void echo_TestSurrounding([in,out,ref] echo_Surrounding *data);
Reply TestSurrounding(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(2));
  COMSEC_ASSIGN_OR_RETURN(uint32_t x, d.U32());
  if (x != max_count) return d.Error("x disagrees with the array's size");
  for (uint32_t i = 0; i < x; ++i) {
    COMSEC_RETURN_IF_ERROR(d.U16().status());
  }
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  if (x > 0x7FFFFFFF / 2) return d.Error("x too large to double");
  // As Samba's server: the array comes back twice as long, zeroed.
  const uint32_t out = 2 * x;
  ndr::Encoder e;
  e.Conformance(out);
  e.U32(out);
  for (uint32_t i = 0; i < out; ++i) e.U16(0);
  return std::move(e).Take();
}

// uint16 echo_TestDoublePointer([in] uint16 ***data);  — a [ref] pointer to
// two [unique] pointers: two referent ids, then the value.
Reply TestDoublePointer(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  uint16_t value = 0;
  COMSEC_ASSIGN_OR_RETURN(uint32_t p1, d.UniquePointer());
  if (p1 != 0) {
    COMSEC_ASSIGN_OR_RETURN(uint32_t p2, d.UniquePointer());
    if (p2 != 0) {
      COMSEC_ASSIGN_OR_RETURN(value, d.U16());
    }
  }
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.U16(value);
  return std::move(e).Take();
}

// NTSTATUS echo_TestCall2([in] uint16 level,
//                          [out, switch_is(level)] echo_Info *info);
// echo_Info is a non-encapsulated union: its uint16 discriminant, then the
// arm at the arm's own alignment. The values are those Samba's server
// returns.
Reply TestCall2(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint16_t level, d.U16());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  ndr::Encoder e;
  e.U16(level);
  switch (level) {
    case 1: e.U8(10); break;                  // echo_info1 {uint8 v}
    case 2: e.U16(20); break;                 // echo_info2 {uint16 v}
    case 3: e.U32(30); break;                 // echo_info3 {uint32 v}
    case 4: e.U64(40); break;                 // echo_info4 {hyper v}
    case 5: e.Align(8); e.U8(50); e.U64(60); break;   // {uint8 v1; hyper v2}
    case 6: e.U8(70); e.U8(80); break;        // {uint8 v1; echo_info1 info1}
    case 7: e.Align(8); e.U8(80); e.U64(90); break;   // {uint8; echo_info4}
    default:
      // No arm to marshal: the stub cannot describe the answer.
      return Status(RPC_X_BAD_STUB_DATA, "TestCall2: invalid level");
  }
  e.U32(0);  // NT_STATUS_OK
  return std::move(e).Take();
}

// void echo_TestEnum([in,out,ref] echo_Enum1 *foo1,
//                    [in,out,ref] echo_Enum2 *foo2,
//                    [in,out,ref,switch_is(*foo1)] echo_Enum3 *foo3);
// echo_Enum1 is a 16-bit enum; echo_Enum2 {echo_Enum1 e1; v1_enum e2};
// echo_Enum3 a union on *foo1. The server sets foo2->e1 = ECHO_ENUM2.
Reply TestEnum(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint16_t foo1, d.Enum16());
  // echo_Enum2 holds a 32-bit member, so the structure aligns to 4.
  COMSEC_RETURN_IF_ERROR(d.Align(4));
  COMSEC_ASSIGN_OR_RETURN(uint16_t e1, d.Enum16());
  COMSEC_ASSIGN_OR_RETURN(uint32_t e2, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint16_t arm, d.U16());
  if (arm != foo1) return d.Error("foo3's discriminant differs from *foo1");
  uint16_t arm_e1 = 0;
  uint16_t arm2_e1 = 0;
  uint32_t arm2_e2 = 0;
  if (arm == 1) {
    COMSEC_ASSIGN_OR_RETURN(arm_e1, d.Enum16());
  } else if (arm == 2) {
    COMSEC_RETURN_IF_ERROR(d.Align(4));
    COMSEC_ASSIGN_OR_RETURN(arm2_e1, d.Enum16());
    COMSEC_ASSIGN_OR_RETURN(arm2_e2, d.U32());
  } else {
    return d.Error("echo_Enum3 has no arm " + std::to_string(arm));
  }
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  (void)e1;
  ndr::Encoder e;
  e.Enum16(foo1);
  e.Align(4);
  e.Enum16(2);  // ECHO_ENUM2
  e.U32(e2);
  e.U16(arm);
  if (arm == 1) {
    e.Enum16(arm_e1);
  } else {
    e.Align(4);
    e.Enum16(arm2_e1);
    e.U32(arm2_e2);
  }
  return std::move(e).Take();
}

Reply TestSleep(Stub stub, const CallContext& call) {
  ndr::Decoder d(stub, call.data_rep);
  COMSEC_ASSIGN_OR_RETURN(uint32_t seconds, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  // Capped so that one call cannot hold a worker for long.
  uint32_t slept = std::min<uint32_t>(seconds, 10);
  std::this_thread::sleep_for(std::chrono::seconds(slept));
  ndr::Encoder e;
  e.U32(slept);
  return std::move(e).Take();
}

}  // namespace

rpc::SyntaxId ComsecEchoSyntax() {
  return {*Guid::Parse("4b2f6d5e-8c1a-4f3b-9e2d-7c6a5b4e3d21"), 1, 0};
}

rpc::SyntaxId RpcEchoSyntax() {
  return {*Guid::Parse("60a15ec5-4de8-11d7-a637-005056a20182"), 1, 0};
}

std::string CallerName(const CallContext& call) {
  if (!call.security.principal.empty()) return call.security.principal;
  if (call.has_peer) {
    std::vector<char> buf(4096);
    passwd pw;
    passwd* found = nullptr;
    if (getpwuid_r(call.peer_uid, &pw, buf.data(), buf.size(), &found) == 0 &&
        found) {
      return std::string("unix:") + found->pw_name;
    }
    return "uid:" + std::to_string(call.peer_uid);
  }
  return "NT AUTHORITY\\ANONYMOUS LOGON";
}

void RegisterEchoInterfaces(rpc::InterfaceRegistry& registry,
                            security::AuthnLevel min_authn_level) {
  rpc::InterfaceRegistration echo;
  echo.syntax = ComsecEchoSyntax();
  echo.min_authn_level = min_authn_level;
  echo.operations = {Echo, Add, WhoAmI};
  registry.Register(std::move(echo));

  rpc::InterfaceRegistration rpcecho;
  rpcecho.syntax = RpcEchoSyntax();
  rpcecho.min_authn_level = min_authn_level;
  rpcecho.operations = {AddOne,     EchoData,  SinkData,        SourceData,
                        TestCall,   TestCall2, TestSleep,       TestEnum,
                        TestSurrounding,       TestDoublePointer};
  registry.Register(std::move(rpcecho));
}

}  // namespace comsec::examples
