// Network logon validation: the one step of an NTLM logon that needs the
// account's secret. Windows servers hand it to LSASS (MSV1_0, or a domain
// controller through NetrLogonSamLogon), Samba's to winbindd; comsec's
// servers hand it to a LogonValidator — in the process itself when it may
// read the secrets (LocalLogonValidator), or to comsecd over ncalrpc when
// it may not (RemoteLogonValidator, auth/ntlm/logon_service.h).
//
// The server keeps everything that needs no secret: the messages, the
// challenge, the MIC, the reflection check, the token it builds from the
// answer. The validator gets the challenge and the client's responses and
// answers with the key exchange key and who the caller is — never the hash.
//
// Thread-safety: every LogonValidator is called from many connection
// threads at once and must be safe for that.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "comsec/auth/ntlm/crypto.h"
#include "comsec/base/result.h"
#include "comsec/security/sid.h"
#include "comsec/security/unix_identity.h"

namespace comsec::auth::ntlm {

// What the server received, as it received it.
struct NetworkLogonRequest {
  std::array<uint8_t, 8> server_challenge{};
  std::u16string user;    // AUTHENTICATE's UserName
  std::u16string domain;  // AUTHENTICATE's DomainName (may be foreign, or empty)
  std::vector<uint8_t> nt_response;
  std::vector<uint8_t> lm_response;
  // The client's address as the server saw it, for the validator's log.
  std::string peer;
};

struct NetworkLogonResult {
  // [MS-NLMP] 3.4.5.1 KeyExchangeKey (the SessionBaseKey for NTLMv2).
  Digest16 key_exchange_key{};
  std::string domain;        // the account's domain (the machine domain)
  std::string account_name;  // as stored
  security::Sid user_sid;
  std::vector<security::Sid> group_sids;
  // The Unix identity the account acts as when impersonated
  // (config::AccountLogon); none when it is not mapped.
  std::optional<security::UnixIdentity> unix_identity;
  // An NTLMv1 response was accepted (the server logs it as weak).
  bool ntlmv1 = false;
};

class LogonValidator {
 public:
  virtual ~LogonValidator() = default;
  // The machine domain's NetBIOS name, which the CHALLENGE announces.
  virtual Result<std::string> DomainName() = 0;
  // SEC_E_LOGON_DENIED for every refusal a client may learn of (unknown
  // user, wrong password, locked or disabled account alike: the wire never
  // tells them apart); its message says why, for the server's log.
  // Another code when validation itself failed (store unreadable, comsecd
  // unreachable): the logon then fails closed.
  virtual Result<NetworkLogonResult> ValidateNetworkLogon(
      const NetworkLogonRequest& request) = 0;
};

}  // namespace comsec::auth::ntlm
