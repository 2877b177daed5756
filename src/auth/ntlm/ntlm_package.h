// The NTLM security package (RPC_C_AUTHN_WINNT, 10) for the DCE/RPC
// runtime: NEGOTIATE in the bind, CHALLENGE in the bind_ack, AUTHENTICATE
// in auth3 (or a second alter_context), then signing and sealing of every
// PDU at PKT and above ([MS-RPCE] 3.3.1.5.2, [MS-NLMP]).
//
// Hardened by default: NTLMv2 only (LM and NTLMv1 responses are refused),
// extended session security and 128-bit keys required, the MIC verified
// whenever the client's MsvAvFlags promise one (a missing MIC then fails),
// anonymous logons refused unless allowed, challenges our own client
// received refused as reflections (MS08-068, auth/ntlm/reflection_registry.h).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/auth/ntlm/crypto.h"
#include "comsec/auth/ntlm/logon_validator.h"
#include "comsec/auth/ntlm/reflection_registry.h"
#include "comsec/base/log.h"
#include "comsec/base/secret.h"
#include "comsec/rpc/security_package.h"
#include "comsec/security/sid.h"

namespace comsec::auth::ntlm {

// A local account as the server validates it.
struct AccountRecord {
  std::string name;  // as stored (its case is what WhoAmI shows)
  Digest16 nt_hash{};
  security::Sid user_sid;
  std::vector<security::Sid> group_sids;
  // The Unix identity the account is mapped to (config::UnixMapping).
  std::optional<security::UnixIdentity> unix_identity;
  bool disabled = false;
};

// Where a LocalLogonValidator finds accounts; StoreAccountSource over the
// secrets file in production.
//
// Thread-safety: implementations are called from many connection threads
// at once and must be safe for that.
class AccountSource {
 public:
  virtual ~AccountSource() = default;
  // The machine domain's NetBIOS name.
  virtual std::string DomainName() const = 0;
  // nullopt when there is no such account; an error when the database
  // could not be read (the logon then fails closed).
  virtual Result<std::optional<AccountRecord>> Lookup(std::string_view user) = 0;
};

struct ServerOptions {
  // Validates the responses (required for a server): in this process, or
  // comsecd's (auth/ntlm/logon_service.h). Must outlive the package.
  LogonValidator* validator = nullptr;
  // NetBIOS / DNS names announced in the CHALLENGE's target info.
  std::string computer_name;  // default: config::NetbiosComputerName()
  std::string dns_computer_name;
  std::string dns_domain_name;
  // Null sessions become ANONYMOUS LOGON only when this is set.
  bool allow_anonymous = false;
  // Challenges this process's NTLM clients received: an AUTHENTICATE
  // answering one of them on another connection is refused (MS08-068).
  // Null: no such check (logged once, when the package is made). Must
  // outlive the package.
  ReflectionRegistry* reflection = nullptr;
  // The package's events (null: none; must outlive the package), each
  // with the peer, the account as the client named it (principal) when
  // known, and the context's authentication level:
  //   ntlm.logon_refused          warning  a server context refused the
  //                                        client (reason, HRESULT)
  //   ntlm.reflection_refused     warning  ... because its AUTHENTICATE
  //                                        answers a challenge one of our
  //                                        clients received (MS08-068)
  //   ntlm.ntlmv1_accepted        warning  an NTLMv1 logon let in
  //                                        (LmCompatibilityLevel below 5)
  //   ntlm.no_reflection_registry warning  once, when a package without a
  //                                        reflection registry is made
  // Never a password, hash, response or key.
  const Logger* logger = nullptr;
};

struct ClientCredentials {
  std::string user;    // empty with no password/hash: anonymous
  std::string domain;  // empty: the server's domain
  std::optional<SecretString> password;
  std::optional<Digest16> nt_hash;
  std::string workstation;  // default: this machine's NetBIOS name
};

// NTLM credentials for one client context (rpc::StartParams::credentials),
// so that one process can authenticate as several users.
class NtlmCredentials : public rpc::Credentials {
 public:
  explicit NtlmCredentials(ClientCredentials credentials)
      : credentials_(std::move(credentials)) {}
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_WINNT; }
  const ClientCredentials& get() const { return credentials_; }

 private:
  ClientCredentials credentials_;
};

// Thread-safety: Start may be called from many connection threads at once;
// each context is used by one thread at a time.
//
// Features: kFeatureSign and kFeatureSeal as negotiated, kFeatureSessionKey;
// never kFeatureMutualAuth (NTLM does not prove the server) nor
// kFeatureDelegate. An impersonation level of IDENTIFY (or a wanted
// kFeatureIdentify) sends NTLMSSP_NEGOTIATE_IDENTIFY, and a server context
// whose client did so reports imp_level() IDENTIFY.
class NtlmPackage : public rpc::SecurityPackage {
 public:
  // A server-side package; client contexts need credentials in
  // StartParams.
  explicit NtlmPackage(ServerOptions server);
  // A client-side package whose default credentials are `client`. Every
  // CHALLENGE its contexts receive is recorded in `reflection` (which must
  // outlive the package) for this process's NTLM servers to check; null
  // records nothing.
  explicit NtlmPackage(ClientCredentials client, ReflectionRegistry* reflection = nullptr);

  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_WINNT; }
  const char* name() const override { return "NTLM"; }
  Result<std::unique_ptr<rpc::SecurityContext>> Start(const rpc::StartParams& params) override;

 private:
  std::optional<ServerOptions> server_;
  std::optional<ClientCredentials> client_;
  ReflectionRegistry* client_reflection_ = nullptr;
};

}  // namespace comsec::auth::ntlm
