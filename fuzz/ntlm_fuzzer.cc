// Fuzz target: the NTLM message parsers and the server's AUTHENTICATE
// handling. The first byte picks the parser; decoded messages re-encode
// to a fixed point (encode(decode(encode(decode(x)))) == encode(decode(x))).
#include <cstddef>
#include <cstdint>
#include <span>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/local_logon_validator.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "fuzz_accounts.h"


namespace {

using namespace comsec::auth::ntlm;

template <typename M, typename Enc>
void FixedPoint(std::span<const uint8_t> in, Enc encode) {
  auto m = M::Decode(in);
  if (!m.ok()) return;
  auto once = encode(*m);
  auto again = M::Decode(once);
  if (!again.ok() || encode(*again) != once) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::span<const uint8_t> in(data + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      FixedPoint<NegotiateMessage>(in, [](const NegotiateMessage& m) { return m.Encode(); });
      break;
    case 1:
      FixedPoint<ChallengeMessage>(in, [](const ChallengeMessage& m) { return m.Encode(); });
      break;
    case 2:
      FixedPoint<AuthenticateMessage>(in, [](const AuthenticateMessage& m) {
        return m.Encode(m.mic.has_value());
      });
      break;
    case 3:
      FixedPoint<AvPairs>(in, [](const AvPairs& m) { return m.Encode(); });
      break;
    case 4:
      (void)ParseNtlmV2Response(in);
      break;
    case 5: {
      // A server context that saw a NEGOTIATE receives the input as its
      // AUTHENTICATE: every check runs on hostile bytes.
      static FuzzAccounts accounts;
      static LocalLogonValidator validator(&accounts, LogonPolicy{});
      ServerOptions o;
      o.validator = &validator;
      o.allow_anonymous = true;
      NtlmPackage package(o);
      comsec::rpc::StartParams params;
      params.role = comsec::rpc::Role::kServer;
      params.auth_level = comsec::security::AuthnLevel::kConnect;
      auto ctx = package.Start(params);
      NegotiateMessage neg;
      neg.flags = NTLMSSP_NEGOTIATE_UNICODE | NTLMSSP_NEGOTIATE_EXTENDED_SESSIONSECURITY |
                  NTLMSSP_NEGOTIATE_KEY_EXCH | NTLMSSP_NEGOTIATE_128;
      if (!(*ctx)->Update(neg.Encode()).ok()) __builtin_trap();
      (void)(*ctx)->Update(in);
      break;
    }
  }
  return 0;
}
