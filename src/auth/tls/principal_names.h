// Schannel principal names of a certificate (rule R52 of
// reference/com-security-rules.md; reference/com-security/
// principal-names.md), in the two forms the TLS package (the Schannel
// analog, RPC_C_AUTHN_GSS_SCHANNEL 14) and the COM layer use:
//
//   msstd    "msstd:" + the certificate's e-mail name when it has one
//            containing '@' (a subjectAltName rfc822Name, else the
//            subject's emailAddress), else the subject's common name;
//            backslashes inside the name are doubled, "just as in string
//            bindings": CN=a\b gives "msstd:a\\b".
//   fullsic  "a series of RFC1779-compliant names bounded by angle brackets
//            and separated by backslashes", after the page's pattern
//            fullsic:\<\Authority\SubAuthority\.....\Person>
//            (the page's Markdown source writes each backslash twice,
//            `fullsic:\\<\\Authority...`, which renders as one): the
//            prefix "fullsic:\<", then, each preceded by one backslash, the
//            names of the issuer chain from the outermost authority down
//            to the certificate's own subject, then ">". Example, a server
//            certificate issued by an intermediate of a root:
//              fullsic:\<\CN=Root, O=Example\CN=Sub CA, O=Example\CN=srv>
//
// RFC 1779 names (as Windows's CertNameToStr CERT_X500_NAME_STR writes
// them): relative distinguished names from the most specific (the last in
// the certificate's encoding) to the least, separated by ", ", the values
// of a multi-valued one by " + "; the keywords CN, L, ST, O, OU, C, STREET
// (RFC 1779 2.3), E for emailAddress, and "OID.n.n.n" for any other type;
// a value containing , + = " \ < > # ; a newline, or leading or trailing
// spaces (or that is empty) is written in double quotes, with \ and "
// escaped by a backslash inside them. So a name never contains a backslash
// or '>' outside quotes, and a fullsic name splits at its unquoted
// backslashes.
//
// Which issuers: the chain is followed from the certificate through
// `chain` (issuer by issuer, matching names, as many as `chain` holds);
// when the last certificate found is not self-issued, its issuer's name
// opens the series. So the fullsic name of a certificate is the same
// whether a chain ends at the root (a verified chain) or below it (a
// server's certificate file without the root): the names are those of the
// issuers, not of the certificates that happen to be present.
//
// Thread-safety: functions only; they read the certificates they are given.
#pragma once

#include <openssl/x509.h>

#include <cstdint>
#include <string>
#include <string_view>

#include "comsec/base/result.h"
#include "comsec/rpc/security_package.h"

namespace comsec::auth::tls {

// winerror.h (com-error-codes-3.md).
inline constexpr HResult RPC_E_FULLSIC_REQUIRED{0x80010121u};
inline constexpr HResult RPC_E_INVALID_STD_NAME{0x80010122u};

struct SchannelPrincipalNames {
  std::string msstd;    // "msstd:..."
  std::string fullsic;  // "fullsic:\<\...>"
};

// The RFC 1779 string of `name` (the form above). "" for an empty name.
std::string Rfc1779Name(const X509_NAME* name);

// The msstd form of `certificate`; RPC_E_INVALID_STD_NAME when it has
// neither an e-mail name with '@' nor a common name.
Result<std::string> MsstdPrincipalName(X509* certificate);

// The fullsic form of `certificate` with the issuers `chain` holds (in any
// order; null or empty: the certificate's own issuer only).
std::string FullsicPrincipalName(X509* certificate, STACK_OF(X509) * chain);

// Both forms (RenderSchannelPrincipalNames is what the package and the COM
// layer call). Fails as MsstdPrincipalName does.
Result<SchannelPrincipalNames> RenderSchannelPrincipalNames(X509* certificate,
                                                            STACK_OF(X509) * chain);

// Whether `name` is in fullsic form: the prefix "fullsic:" (any case), then
// "\<", at least one name each opened by an unquoted backslash, and a
// closing ">" that ends the string, with balanced quotes. Says nothing of
// whether the names are a certificate's.
bool IsFullsicName(std::string_view name);
// Whether `name` is in msstd form: "msstd:" (any case) and a non-empty name.
bool IsMsstdName(std::string_view name);

// A TLS peer's certificate as the COM layer sees it: the package makes one
// for every peer that presented a verified certificate
// (rpc::SecurityContext::PeerEvidence, carried to the call in
// rpc::CallSecurity::peer_evidence); IServerSecurity::QueryBlanket reads
// the form it was asked for (R52).
//
// Thread-safety: immutable.
class TlsPeerCertificate final : public rpc::PeerEvidence {
 public:
  TlsPeerCertificate(SchannelPrincipalNames names, std::string subject, std::string thumbprint)
      : names_(std::move(names)), subject_(std::move(subject)), thumbprint_(std::move(thumbprint)) {}
  uint8_t auth_type() const override { return rpc::RPC_C_AUTHN_GSS_SCHANNEL; }
  // "" when the certificate has no msstd name (no e-mail, no common name).
  const std::string& msstd() const { return names_.msstd; }
  const std::string& fullsic() const { return names_.fullsic; }
  // RFC 2253, as ClientCertificate::subject.
  const std::string& subject() const { return subject_; }
  const std::string& thumbprint() const { return thumbprint_; }

 private:
  SchannelPrincipalNames names_;
  std::string subject_;
  std::string thumbprint_;
};

}  // namespace comsec::auth::tls
