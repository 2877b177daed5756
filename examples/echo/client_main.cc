// comsec-echo-client --binding BINDING [--endpoint-mapper BINDING]
//     [--auth none|local|ntlm|kerberos|negotiate] [--level N] [--imp-level N]
//     [--user U] [--domain D] [--password P | --password-stdin | --nt-hash HEX]
//     [--spn SPN] [--keytab FILE] [--server-uid UID]...
//     [--tls-ca FILE] [--tls-cert FILE --tls-key FILE]
//     whoami | add A B | echo --size N
// Calls comsec-echo-server with comsec's own runtime. Kerberos takes its
// tickets from KRB5CCNAME's ccache, or with --keytab FILE --user PRINCIPAL
// from a client keytab, and authenticates the server as --spn (required).
// TLS (--auth tls) verifies the server's certificate against --tls-ca
// (required) and its name against --spn when given (a host, RPCSS/host, or
// msstd:NAME), and presents --tls-cert when given.
// Negotiate (SPNEGO) offers Kerberos when those credentials yield a ticket
// for --spn, and NTLM when --password, --password-stdin or --nt-hash gives
// NTLM credentials; the server picks.
// Exit 0 on success, 1 when the call fails, 2 on bad usage.
#include <iostream>

#include <CLI/CLI.hpp>

#include "comsec/auth/gssapi/kerberos_package.h"
#include "comsec/auth/negotiate/negotiate_package.h"
#include "comsec/auth/ntlm/ntlm_package.h"
#include "comsec/auth/peer_cred/local_package.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/base/hex.h"
#include "comsec/rpc/client.h"
#include "comsec/rpc/epmapper.h"
#include "echo.h"
#include "comsec/security/authn_level.h"
#include "echo_service.h"

int main(int argc, char** argv) {
  using namespace comsec;
  CLI::App app{"comsec-echo-client: call comsec-echo-server"};
  std::string binding_text, endpoint_mapper;
  app.add_option("--binding", binding_text, "server string binding")->required();
  app.add_option("--endpoint-mapper", endpoint_mapper, "endpoint mapper binding");
  std::string auth_name = "none";
  int level = 0;
  app.add_option("--auth", auth_name,
                 "none, local (ncalrpc: the kernel names us), ntlm, kerberos, negotiate or tls")
      ->check(CLI::IsMember({"none", "local", "ntlm", "kerberos", "negotiate", "tls"}));
  app.add_option("--level", level, "authentication level 2-6 (with --auth; default 6)")
      ->check(CLI::Range(2, 6));
  int imp_level = 3;  // RPC_C_IMP_LEVEL_IMPERSONATE
  app.add_option("--imp-level", imp_level,
                 "impersonation level granted to the server: 1 anonymous, 2 identify, "
                 "3 impersonate (default), 4 delegate")
      ->check(CLI::Range(1, 4));
  std::string spn, keytab;
  app.add_option("--spn", spn, "Kerberos: the server's principal, e.g. RPCSS/host");
  app.add_option("--keytab", keytab,
                 "Kerberos: a client keytab holding --user's keys (default: KRB5CCNAME's "
                 "tickets)");
  std::string tls_ca, tls_cert, tls_key;
  app.add_option("--tls-ca", tls_ca, "TLS: PEM CA certificates the server's must chain to");
  auto* tls_cert_opt = app.add_option("--tls-cert", tls_cert, "TLS: our PEM certificate");
  auto* tls_key_opt = app.add_option("--tls-key", tls_key, "TLS: the key of --tls-cert");
  tls_cert_opt->needs(tls_key_opt);
  tls_key_opt->needs(tls_cert_opt);
  std::string user, domain, password, nt_hash_hex;
  bool password_stdin = false;
  app.add_option("--user", user,
                 "NTLM account name (none: anonymous); Kerberos principal with --keytab");
  app.add_option("--domain", domain, "NTLM account domain (default: the server's)");
  app.add_option("--password", password, "NTLM password");
  app.add_flag("--password-stdin", password_stdin,
               "read the NTLM password from one line of standard input");
  app.add_option("--nt-hash", nt_hash_hex, "NTLM NT hash (32 hex digits) instead of a password");
  rpc::ClientOptions client_options;
  app.add_option("--server-uid", client_options.trusted_server_uids,
                 "on ncalrpc, a uid the server may run as (repeatable; default: root or "
                 "this user)");
  app.require_subcommand(1);
  auto* whoami = app.add_subcommand("whoami", "ask the server who we are");
  int32_t a = 0, b = 0;
  auto* add = app.add_subcommand("add", "add two numbers");
  add->add_option("A", a)->required();
  add->add_option("B", b)->required();
  uint32_t size = 64;
  auto* echo = app.add_subcommand("echo", "echo N bytes");
  echo->add_option("--size", size, "bytes to echo")->check(CLI::Range(0, 4 << 20));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  auto binding = rpc::StringBinding::Parse(binding_text);
  if (!binding.ok()) {
    std::cerr << "comsec-echo-client: " << binding.status().ToString() << "\n";
    return 2;
  }
  if (!endpoint_mapper.empty() && (binding->endpoint.empty() || binding->endpoint == "0")) {
    auto mapper = rpc::StringBinding::Parse(endpoint_mapper);
    if (!mapper.ok()) {
      std::cerr << "comsec-echo-client: " << mapper.status().ToString() << "\n";
      return 2;
    }
    auto resolved = rpc::EptMap(*mapper, examples::ComsecEchoSyntax(), binding->protseq);
    if (!resolved.ok()) {
      std::cerr << "comsec-echo-client: " << resolved.status().ToString() << "\n";
      return 1;
    }
    if (binding->IsTcp()) resolved->address = binding->address;
    *binding = *resolved;
  }
  auto fail = [](const Status& s) {
    std::cerr << "comsec-echo-client: " << s.ToString() << "\n";
    return 1;
  };
  if (!keytab.empty() && user.empty()) {
    std::cerr << "comsec-echo-client: --keytab needs --user (the principal whose keys it holds)\n";
    return 2;
  }
  if ((auth_name == "kerberos" || auth_name == "negotiate") && spn.empty()) {
    std::cerr << "comsec-echo-client: --auth " << auth_name
              << " needs --spn (the server's principal)\n";
    return 2;
  }
  if (auth_name == "tls" && tls_ca.empty()) {
    std::cerr << "comsec-echo-client: --auth tls needs --tls-ca (to verify the server)\n";
    return 2;
  }
  std::unique_ptr<auth::tls::TlsPackage> tls_package;
  if (auth_name == "tls") {
    auto made = auth::tls::TlsPackage::CreateClient({tls_ca, tls_cert, tls_key});
    if (!made.ok()) return fail(made.status());
    tls_package = std::move(*made);
  }
  auto client = rpc::Client::Connect(*binding, client_options);
  if (!client.ok()) return fail(client.status());
  auth::LocalPackage local_package;
  auth::ntlm::ClientCredentials creds;
  creds.user = user;
  creds.domain = domain;
  if (password_stdin) {
    SecretString typed;
    if (!std::getline(std::cin, typed.mutable_value())) {
      std::cerr << "comsec-echo-client: --password-stdin: no password on standard input\n";
      return 2;
    }
    creds.password = typed;
  } else if (!password.empty()) {
    creds.password = password;
    WipeSecret(password.data(), password.size());
  }
  if (!nt_hash_hex.empty()) {
    auto h = FromHex(nt_hash_hex);
    if (!h.ok() || h->size() != 16) {
      std::cerr << "comsec-echo-client: --nt-hash needs 32 hex digits\n";
      return 2;
    }
    auth::ntlm::Digest16 d;
    std::copy(h->begin(), h->end(), d.begin());
    WipeSecret(h->data(), h->size());
    creds.nt_hash = d;
  }
  auth::ntlm::NtlmPackage ntlm_package(creds);
  auth::gssapi::KerberosClientCredentials krb_creds;
  if (!keytab.empty()) {
    krb_creds.keytab = keytab;
    krb_creds.principal = user;
  }
  auth::gssapi::KerberosPackage kerberos_package(krb_creds);
  // Negotiate: NTLM only with NTLM secrets (--user alone names a Kerberos
  // principal with --keytab, or an anonymous NTLM logon otherwise).
  auth::negotiate::NegotiateOptions negotiate_options;
  negotiate_options.kerberos = &kerberos_package;
  if (keytab.empty() && (creds.password || creds.nt_hash)) negotiate_options.ntlm = &ntlm_package;
  auth::negotiate::NegotiatePackage negotiate_package(negotiate_options);
  rpc::ClientAuth client_auth;
  const rpc::ClientAuth* use_auth = nullptr;
  if (auth_name != "none") {
    client_auth.package = auth_name == "local" ? static_cast<rpc::SecurityPackage*>(&local_package)
                          : auth_name == "ntlm" ? static_cast<rpc::SecurityPackage*>(&ntlm_package)
                          : auth_name == "tls"  ? static_cast<rpc::SecurityPackage*>(tls_package.get())
                          : auth_name == "negotiate"
                              ? static_cast<rpc::SecurityPackage*>(&negotiate_package)
                              : &kerberos_package;
    // --level is checked to be 2-6 and --imp-level 0-4.
    client_auth.level = *security::AuthnLevelFromNumber(level ? level : 6);
    client_auth.imp_level = *security::ImpLevelFromNumber(imp_level);
    if (auth_name == "negotiate") client_auth.target_name = spn;
    if (auth_name == "kerberos" || auth_name == "tls") {
      client_auth.target_name = spn;
      // The server proves who it is, or the bind fails.
      client_auth.wanted = rpc::kFeatureMutualAuth;
    }
    // RPC_C_IMP_LEVEL_DELEGATE wants delegation; as on Windows the bind
    // does not fail without it, so we warn below.
    if (client_auth.imp_level == security::ImpLevel::kDelegate) {
      client_auth.wanted |= rpc::kFeatureDelegate;
    }
    use_auth = &client_auth;
  }
  if (Status s = (*client)->Bind(examples::ComsecEchoSyntax(), use_auth); !s.ok()) {
    return fail(s);
  }
  if (use_auth && ((*client)->unmet_features(client_auth.context_id) & rpc::kFeatureDelegate)) {
    std::cerr << "warning: delegation was not granted: "
              << (auth_name == "kerberos" || auth_name == "negotiate"
                      ? "the KDC does not trust " + spn +
                            " for delegation (ok-as-delegate unset) or the TGT is not "
                            "forwardable (or Negotiate chose NTLM), so no ticket was forwarded"
                      : client_auth.package->name() + std::string(" cannot delegate"))
              << "; the call goes on at impersonate level, as on Windows\n";
  }

  idl::IComsecEchoProxy echo_proxy(client->get());
  if (*whoami) {
    std::optional<std::u16string> name;
    int32_t level = 0, svc = 0;
    auto r = echo_proxy.WhoAmI(name, level, svc);
    if (!r.ok()) return fail(r.status());
    std::u16string n = name.value_or(u"");
    std::cout << std::string(n.begin(), n.end()) << " authn_level=" << level
              << " authn_svc=" << svc << "\n";
  } else if (*add) {
    int32_t sum = 0;
    auto r = echo_proxy.Add(a, b, sum);
    if (!r.ok()) return fail(r.status());
    std::cout << sum << "\n";
  } else if (*echo) {
    std::vector<uint8_t> data(size);
    for (uint32_t i = 0; i < size; ++i) data[i] = static_cast<uint8_t>(i * 31 + 7);
    std::vector<uint8_t> out;
    auto r = echo_proxy.Echo(size, data, out);
    if (!r.ok()) return fail(r.status());
    if (out != data) return fail(Status(E_FAIL, "the echoed bytes differ"));
    std::cout << "echoed " << size << " bytes\n";
  }
  return 0;
}
