// Fuzz target: comsecd's logon service (auth/ntlm/logon_service.h). The
// first byte picks the side: comsecd decoding a NetworkLogon or QueryDomain
// request from a (trusted, but possibly buggy or compromised) server, or a
// server decoding comsecd's reply. Either returns a value or an error.
#include <cstddef>
#include <cstdint>
#include <span>

#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/logon_service.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "fuzz_accounts.h"

using namespace comsec::auth::ntlm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static FuzzAccounts accounts;
  static LocalLogonValidator validator(&accounts, LogonPolicy{});
  static comsec::rpc::InterfaceRegistration iface = [] {
    LogonServiceOptions o;
    o.validator = &validator;
    return LogonServiceInterface(o);
  }();
  const std::span<const uint8_t> rest(data + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
    case 1: {
      comsec::rpc::CallContext call;
      call.local = call.has_peer = true;  // root over ncalrpc: trusted
      (void)iface.operations[data[0] % 2](rest, call);
      break;
    }
    case 2:
      (void)DecodeNetworkLogonReply(rest);
      break;
  }
  return 0;
}
