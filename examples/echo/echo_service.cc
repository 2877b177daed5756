#include "echo_service.h"

#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "comsec/base/win32_error.h"
#include "comsec/rpc/current_call.h"
#include "echo.h"

namespace comsec::examples {
namespace {

using namespace ::comsec::idl;

std::u16string Utf16(const std::string& s) {
  // ASCII is enough for the names WhoAmI reports.
  return std::u16string(s.begin(), s.end());
}

// ==== IComsecEcho =========================================================

class ComsecEcho final : public IComsecEcho {
 public:
  Result<int32_t> Echo(uint32_t, std::span<const uint8_t> data,
                       std::vector<uint8_t>& out) override {
    out.assign(data.begin(), data.end());
    return 0;
  }
  Result<int32_t> Add(int32_t a, int32_t b, int32_t& sum) override {
    // Wraps as the C long of the IDL does, without signed overflow.
    sum = static_cast<int32_t>(static_cast<uint32_t>(a) + static_cast<uint32_t>(b));
    return 0;
  }
  Result<int32_t> WhoAmI(std::optional<std::u16string>& name, int32_t& authn_level,
                         int32_t& authn_svc) override {
    const rpc::CallContext& call = *rpc::CurrentCall();
    name = Utf16(CallerName(call));
    authn_level = static_cast<int32_t>(security::ToNumber(call.security.authn_level));
    authn_svc = static_cast<int32_t>(call.security.authn_svc);
    return 0;
  }
};

// ==== rpcecho (Samba librpc/idl/echo.idl) =================================

class RpcEcho final : public rpcecho {
 public:
  Status echo_AddOne(uint32_t in_data, uint32_t& out_data) override {
    out_data = in_data + 1;
    return Status();
  }
  Status echo_EchoData(uint32_t, std::span<const uint8_t> in_data,
                       std::vector<uint8_t>& out_data) override {
    out_data.assign(in_data.begin(), in_data.end());
    return Status();
  }
  Status echo_SinkData(uint32_t, std::span<const uint8_t>) override { return Status(); }
  Status echo_SourceData(uint32_t len, std::vector<uint8_t>& data) override {
    // The response must fit the client's limits; refuse absurd requests.
    if (len > 16 * 1024 * 1024) {
      return Status(ERROR_OUTOFMEMORY, "SourceData: too much data requested");
    }
    data.resize(len);
    for (uint32_t i = 0; i < len; ++i) data[i] = static_cast<uint8_t>(i & 0xff);
    return Status();
  }
  Status echo_TestCall(const std::u16string& s1, std::optional<std::u16string>& s2) override {
    s2 = s1;
    return Status();
  }
  // The values are those Samba's server returns.
  Result<uint32_t> echo_TestCall2(uint16_t level, echo_Info& info) override {
    info.tag = level;
    switch (level) {
      case 1: info.info1.v = 10; break;
      case 2: info.info2.v = 20; break;
      case 3: info.info3.v = 30; break;
      case 4: info.info4.v = 40; break;
      case 5: info.info5 = {50, 60}; break;
      case 6: info.info6 = {70, {80}}; break;
      case 7: info.info7 = {80, {90}}; break;
      default:
        // No arm to marshal: the stub cannot describe the answer.
        return Status(RPC_X_BAD_STUB_DATA, "TestCall2: invalid level");
    }
    return uint32_t{0};  // NT_STATUS_OK
  }
  Result<uint32_t> echo_TestSleep(uint32_t seconds) override {
    // Capped so that one call cannot hold a worker for long.
    uint32_t slept = std::min<uint32_t>(seconds, 10);
    std::this_thread::sleep_for(std::chrono::seconds(slept));
    return slept;
  }
  // The server sets foo2->e1 = ECHO_ENUM2, as Samba's does.
  Status echo_TestEnum(echo_Enum1&, echo_Enum2& foo2, echo_Enum3&) override {
    foo2.e1 = ECHO_ENUM2;
    return Status();
  }
  // As Samba's server: the array comes back twice as long, zeroed.
  Status echo_TestSurrounding(echo_Surrounding& data) override {
    if (data.x > 0x7FFFFFFF / 2) return Status(RPC_X_BAD_STUB_DATA, "x too large to double");
    data.x *= 2;
    data.surrounding.assign(data.x, 0);
    return Status();
  }
  Result<uint16_t> echo_TestDoublePointer(
      const std::optional<std::optional<uint16_t>>& data) override {
    return data && *data ? **data : uint16_t{0};
  }
};

}  // namespace

rpc::SyntaxId ComsecEchoSyntax() { return IComsecEchoSyntax(); }

rpc::SyntaxId RpcEchoSyntax() { return rpcechoSyntax(); }

std::string CallerName(const rpc::CallContext& call) {
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
  rpc::InterfaceRegistration echo = IComsecEchoRegistration(std::make_shared<ComsecEcho>());
  echo.min_authn_level = min_authn_level;
  registry.Register(std::move(echo));

  rpc::InterfaceRegistration rpcecho = rpcechoRegistration(std::make_shared<RpcEcho>());
  rpcecho.min_authn_level = min_authn_level;
  registry.Register(std::move(rpcecho));
}

}  // namespace comsec::examples
