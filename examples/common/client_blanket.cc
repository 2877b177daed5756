#include "client_blanket.h"

#include <algorithm>

#include "comsec/base/hex.h"
#include "comsec/base/hresult.h"
#include "comsec/base/secret.h"
#include "comsec/security/authn_level.h"

namespace comsec::examples {

void AddClientBlanketFlags(CLI::App& app, ClientBlanketFlags& f) {
  app.add_option("--auth", f.auth,
                 "none, local (ncalrpc: the kernel names us), ntlm, kerberos, negotiate or tls")
      ->check(CLI::IsMember({"none", "local", "ntlm", "kerberos", "negotiate", "tls"}));
  app.add_option("--level", f.level, "authentication level 2-6 (with --auth; default 6)")
      ->check(CLI::Range(2, 6));
  app.add_option("--imp-level", f.imp_level,
                 "impersonation level granted to the server: 1 anonymous, 2 identify, "
                 "3 impersonate (default), 4 delegate")
      ->check(CLI::Range(1, 4));
  app.add_option("--spn", f.spn, "Kerberos: the server's principal, e.g. RPCSS/host");
  app.add_option("--keytab", f.keytab,
                 "Kerberos: a client keytab holding --user's keys (default: KRB5CCNAME's "
                 "tickets)");
  app.add_option("--tls-ca", f.tls_ca, "TLS: PEM CA certificates the server's must chain to");
  auto* cert = app.add_option("--tls-cert", f.tls_cert, "TLS: our PEM certificate");
  auto* key = app.add_option("--tls-key", f.tls_key, "TLS: the key of --tls-cert");
  cert->needs(key);
  key->needs(cert);
  app.add_option("--user", f.user,
                 "NTLM account name (none: anonymous); Kerberos principal with --keytab");
  app.add_option("--domain", f.domain, "NTLM account domain (default: the server's)");
  app.add_option("--password", f.password, "NTLM password");
  app.add_flag("--password-stdin", f.password_stdin,
               "read the NTLM password from one line of standard input");
  app.add_option("--nt-hash", f.nt_hash_hex, "NTLM NT hash (32 hex digits) instead of a password");
}

ClientBlanket::ClientBlanket(const ClientBlanketFlags& flags)
    : auth_name_(flags.auth), spn_(flags.spn) {}

Result<std::unique_ptr<ClientBlanket>> ClientBlanket::Make(ClientBlanketFlags& f,
                                                           std::istream& in) {
  if (!f.keytab.empty() && f.user.empty()) {
    return Status(E_INVALIDARG, "--keytab needs --user (the principal whose keys it holds)");
  }
  if ((f.auth == "kerberos" || f.auth == "negotiate") && f.spn.empty()) {
    return Status(E_INVALIDARG, "--auth " + f.auth + " needs --spn (the server's principal)");
  }
  if (f.auth == "tls" && f.tls_ca.empty()) {
    return Status(E_INVALIDARG, "--auth tls needs --tls-ca (to verify the server)");
  }
  std::unique_ptr<ClientBlanket> b(new ClientBlanket(f));
  if (f.auth == "tls") {
    COMSEC_ASSIGN_OR_RETURN(b->tls_,
                            auth::tls::TlsPackage::CreateClient({f.tls_ca, f.tls_cert, f.tls_key}));
  }
  auth::ntlm::ClientCredentials creds;
  creds.user = f.user;
  creds.domain = f.domain;
  if (f.password_stdin) {
    SecretString typed;
    if (!std::getline(in, typed.mutable_value())) {
      return Status(E_INVALIDARG, "--password-stdin: no password on standard input");
    }
    creds.password = typed;
  } else if (!f.password.empty()) {
    creds.password = f.password;
    WipeSecret(f.password.data(), f.password.size());
  }
  if (!f.nt_hash_hex.empty()) {
    auto h = FromHex(f.nt_hash_hex);
    if (!h.ok() || h->size() != 16) return Status(E_INVALIDARG, "--nt-hash needs 32 hex digits");
    auth::ntlm::Digest16 d;
    std::copy(h->begin(), h->end(), d.begin());
    WipeSecret(h->data(), h->size());
    creds.nt_hash = d;
  }
  const bool ntlm_secrets = creds.password || creds.nt_hash;
  b->ntlm_ = std::make_unique<auth::ntlm::NtlmPackage>(std::move(creds));
  auth::gssapi::KerberosClientCredentials krb;
  if (!f.keytab.empty()) {
    krb.keytab = f.keytab;
    krb.principal = f.user;
  }
  b->kerberos_ = std::make_unique<auth::gssapi::KerberosPackage>(krb);
  // Negotiate: NTLM only with NTLM secrets (--user alone names a Kerberos
  // principal with --keytab, or an anonymous NTLM logon otherwise).
  auth::negotiate::NegotiateOptions negotiate;
  negotiate.kerberos = b->kerberos_.get();
  if (f.keytab.empty() && ntlm_secrets) negotiate.ntlm = b->ntlm_.get();
  b->negotiate_ = std::make_unique<auth::negotiate::NegotiatePackage>(negotiate);
  if (f.auth == "none") return b;

  rpc::ClientAuth& a = b->auth_;
  a.package = f.auth == "local"       ? static_cast<rpc::SecurityPackage*>(&b->local_)
              : f.auth == "ntlm"      ? static_cast<rpc::SecurityPackage*>(b->ntlm_.get())
              : f.auth == "tls"       ? static_cast<rpc::SecurityPackage*>(b->tls_.get())
              : f.auth == "negotiate" ? static_cast<rpc::SecurityPackage*>(b->negotiate_.get())
                                      : b->kerberos_.get();
  // The flags' ranges are checked by CLI11; out of range stays refused.
  auto level = security::AuthnLevelFromNumber(f.level ? f.level : 6);
  auto imp = security::ImpLevelFromNumber(f.imp_level);
  if (!level || !imp) return Status(E_INVALIDARG, "--level or --imp-level out of range");
  a.level = *level;
  a.imp_level = *imp;
  if (f.auth == "negotiate") a.target_name = f.spn;
  if (f.auth == "kerberos" || f.auth == "tls") {
    a.target_name = f.spn;
    // The server proves who it is, or the bind fails.
    a.wanted = rpc::kFeatureMutualAuth;
  }
  // RPC_C_IMP_LEVEL_DELEGATE wants delegation; as on Windows the bind does
  // not fail without it (DelegationNotGranted says so).
  if (a.imp_level == security::ImpLevel::kDelegate) a.wanted |= rpc::kFeatureDelegate;
  b->use_auth_ = true;
  return b;
}

std::string ClientBlanket::DelegationNotGranted() const {
  return "delegation was not granted: " +
         (auth_name_ == "kerberos" || auth_name_ == "negotiate"
              ? "the KDC does not trust " + spn_ +
                    " for delegation (ok-as-delegate unset) or the TGT is not forwardable (or "
                    "Negotiate chose NTLM), so no ticket was forwarded"
              : std::string(auth_.package ? auth_.package->name() : "this package") +
                    " cannot delegate") +
         "; the call goes on at impersonate level, as on Windows";
}

}  // namespace comsec::examples
