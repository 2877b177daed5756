// The one account ("u", password "p", domain FUZZ) the NTLM fuzz targets
// validate against, whatever user name the input asks for.
#pragma once

#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/ntlm/ntlmv2.h"

class FuzzAccounts : public comsec::auth::ntlm::AccountSource {
 public:
  std::string DomainName() const override { return "FUZZ"; }
  comsec::Result<std::optional<comsec::auth::ntlm::AccountRecord>> Lookup(
      std::string_view) override {
    comsec::auth::ntlm::AccountRecord a;
    a.name = "u";
    a.nt_hash = comsec::auth::ntlm::NtHash(u"p");
    a.user_sid = comsec::security::Sid(5, {21, 1, 2, 3, 1000});
    return std::optional<comsec::auth::ntlm::AccountRecord>(a);
  }
};
