// The TLS package's configuration in the store (issue 12): the files a
// server (or comsecd) uses, and the table mapping client certificates to
// accounts, which Windows keeps in its certificate mapping store (IIS's
// one-to-one mappings, AD's altSecurityIdentities) and comsec keeps here:
//
//   HKLM\SOFTWARE\comsec\Tls                     CertificateFile, KeyFile,
//                                                CaFile (REG_SZ paths)
//   HKLM\SOFTWARE\comsec\Tls\ThumbprintMappings  value name: SHA-256 of the
//                                                certificate's DER, 64
//                                                lower-case hex digits;
//                                                data: account (REG_SZ)
//   HKLM\SOFTWARE\comsec\Tls\SubjectMappings     value name: the subject in
//                                                RFC 2253 form, as OpenSSL
//                                                prints it ("CN=alice,O=X");
//                                                data: account (REG_SZ)
//
// A thumbprint names one certificate; a subject names every certificate the
// trusted CAs issue with that subject, so a thumbprint mapping wins over a
// subject mapping. Subjects compare as value names do: case-insensitively.
// An account is a name in the store's account database (config/accounts.h)
// or "unix:NAME" for a Unix user (auth/tls/store_certificate_mapper.h).
// Nothing here is secret (key files are named, never read), so it lives
// in the policy store and `comcfg reg export` shows it.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/store.h"

namespace comsec::config {

inline constexpr std::string_view kTlsKey = "HKEY_LOCAL_MACHINE\\SOFTWARE\\comsec\\Tls";

struct TlsFiles {
  std::string certificate_file;
  std::string key_file;
  std::string ca_file;
};

enum class TlsMappingKind { kThumbprint, kSubject };

struct TlsCertificateMapping {
  TlsMappingKind kind = TlsMappingKind::kThumbprint;
  // The thumbprint (normalized) or subject.
  std::string certificate;
  std::string account;
};

// "thumbprint" / "subject".
const char* TlsMappingKindName(TlsMappingKind kind);

// 64 hex digits (any case; ':' and spaces allowed between them) in lower
// case; E_INVALIDARG otherwise.
Result<std::string> NormalizeThumbprint(std::string_view text);

// Empty strings for the values that are absent; an error when a value is
// not REG_SZ or the store cannot be read.
Result<TlsFiles> ReadTlsFiles(Store* store);
// Sets the non-empty members (one transaction); empty ones are kept.
Status WriteTlsFiles(Store* store, const TlsFiles& files);

// Adds or replaces a mapping (the thumbprint is normalized; an empty
// subject or account is E_INVALIDARG).
Status MapTlsCertificate(Store* store, TlsMappingKind kind, std::string_view certificate,
                         std::string_view account);
// HRESULT_FROM_WIN32(ERROR_NOT_FOUND) when no such mapping exists.
Status UnmapTlsCertificate(Store* store, TlsMappingKind kind, std::string_view certificate);
// Thumbprint mappings first, each kind in the store's order.
Result<std::vector<TlsCertificateMapping>> ListTlsMappings(Store* store);

// The account a certificate maps to: its thumbprint's mapping, else its
// subject's; nullopt when neither exists. `thumbprint` is normalized.
Result<std::optional<std::string>> FindTlsMapping(ReadTransaction& reader,
                                                  std::string_view subject,
                                                  std::string_view thumbprint);

}  // namespace comsec::config
