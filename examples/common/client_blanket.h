// The examples' clients choose their authentication the same way: one set
// of flags (--auth, --level, --imp-level, credentials for each package) and
// the packages and rpc::ClientAuth built from them. comsec-echo-client and
// comsec-hello-client share this, so a flag means the same in both.
//
//   ClientBlanketFlags flags;
//   AddClientBlanketFlags(app, flags);
//   app.parse(argc, argv);
//   auto blanket = ClientBlanket::Make(flags, std::cin);   // E_INVALIDARG: usage
//   client->Bind(syntax, (*blanket)->auth());              // null: unauthenticated
//
// Kerberos takes its tickets from KRB5CCNAME's ccache, or with --keytab
// FILE --user PRINCIPAL from a client keytab, and authenticates the server
// as --spn (required). TLS verifies the server's certificate against
// --tls-ca (required) and its name against --spn when given. Negotiate
// offers Kerberos when those credentials yield a ticket for --spn, and NTLM
// when --password, --password-stdin or --nt-hash gives NTLM credentials.
//
// Thread-safety: a ClientBlanket is built on one thread; afterwards its
// packages may be used from any number of threads (as each package says).
#pragma once

#include <cstdint>
#include <istream>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/result.h"
#include "comsec/rpc/client.h"

namespace comsec::examples {

struct ClientBlanketFlags {
  std::string auth = "none";  // none, local, ntlm, kerberos, negotiate, tls
  int level = 0;              // 2-6; 0: PKT_PRIVACY (6)
  int imp_level = 3;          // RPC_C_IMP_LEVEL_IMPERSONATE
  std::string spn, keytab;
  std::string tls_ca, tls_cert, tls_key;
  std::string user, domain, password, nt_hash_hex;
  bool password_stdin = false;
};

// Adds --auth, --level, --imp-level, --spn, --keytab, --tls-ca, --tls-cert,
// --tls-key, --user, --domain, --password, --password-stdin, --nt-hash.
void AddClientBlanketFlags(CLI::App& app, ClientBlanketFlags& flags);

class ClientBlanket {
 public:
  // The packages and blanket the flags ask for. E_INVALIDARG (with the
  // sentence to print) for flags that cannot work together, or a password
  // that --password-stdin did not find on `in`; the package's error when
  // one cannot be made (a TLS CA file that does not load). Wipes
  // flags.password's copy it took.
  static Result<std::unique_ptr<ClientBlanket>> Make(ClientBlanketFlags& flags,
                                                     std::istream& in);
  ClientBlanket(const ClientBlanket&) = delete;
  ClientBlanket& operator=(const ClientBlanket&) = delete;

  // The blanket for binds; null with --auth none.
  const rpc::ClientAuth* auth() const { return use_auth_ ? &auth_ : nullptr; }
  // What to tell the user when the server was not granted delegation the
  // blanket asked for (rpc::Client::unmet_features has kFeatureDelegate);
  // the call goes on at impersonate level, as on Windows.
  std::string DelegationNotGranted() const;

 private:
  explicit ClientBlanket(const ClientBlanketFlags& flags);

  std::string auth_name_, spn_;
  auth::LocalPackage local_;
  std::unique_ptr<auth::ntlm::NtlmPackage> ntlm_;
  std::unique_ptr<auth::gssapi::KerberosPackage> kerberos_;
  std::unique_ptr<auth::negotiate::NegotiatePackage> negotiate_;
  std::unique_ptr<auth::tls::TlsPackage> tls_;
  rpc::ClientAuth auth_;
  bool use_auth_ = false;
};

}  // namespace comsec::examples
