#include "comsec/config/tls_settings.h"

#include "comsec/base/hex.h"
#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

constexpr std::string_view kCertificateFile = "CertificateFile";
constexpr std::string_view kKeyFile = "KeyFile";
constexpr std::string_view kCaFile = "CaFile";

KeyPath TlsKey() { return *KeyPath::Parse(kTlsKey); }

KeyPath MappingKey(TlsMappingKind kind) {
  return TlsKey().Child(kind == TlsMappingKind::kThumbprint ? "ThumbprintMappings"
                                                            : "SubjectMappings");
}

Result<std::string> MappingName(TlsMappingKind kind, std::string_view certificate) {
  if (kind == TlsMappingKind::kThumbprint) return NormalizeThumbprint(certificate);
  if (certificate.empty()) return Status(E_INVALIDARG, "an empty certificate subject");
  if (certificate.size() > kMaxValueNameLength) {
    return Status(E_INVALIDARG, "a certificate subject longer than " +
                                    std::to_string(kMaxValueNameLength) + " characters");
  }
  return std::string(certificate);
}

Result<std::string> ReadString(ReadTransaction& reader, const KeyPath& key,
                               std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(std::optional<RegValue> v, reader.GetValue(key, name));
  if (!v) return std::string();
  return v->AsString();
}

}  // namespace

const char* TlsMappingKindName(TlsMappingKind kind) {
  return kind == TlsMappingKind::kThumbprint ? "thumbprint" : "subject";
}

Result<std::string> NormalizeThumbprint(std::string_view text) {
  auto bytes = FromHex(text);
  if (!bytes.ok() || bytes->size() != 32) {
    return Status(E_INVALIDARG, "a SHA-256 thumbprint is 64 hex digits, not '" +
                                    std::string(text) + "'");
  }
  return ToHex(*bytes);
}

Result<TlsFiles> ReadTlsFiles(Store* store) {
  COMSEC_ASSIGN_OR_RETURN(auto reader, store->BeginRead());
  TlsFiles files;
  const KeyPath key = TlsKey();
  COMSEC_ASSIGN_OR_RETURN(files.certificate_file, ReadString(*reader, key, kCertificateFile));
  COMSEC_ASSIGN_OR_RETURN(files.key_file, ReadString(*reader, key, kKeyFile));
  COMSEC_ASSIGN_OR_RETURN(files.ca_file, ReadString(*reader, key, kCaFile));
  return files;
}

Status WriteTlsFiles(Store* store, const TlsFiles& files) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginWrite());
  const KeyPath key = TlsKey();
  const std::pair<std::string_view, const std::string*> values[] = {
      {kCertificateFile, &files.certificate_file},
      {kKeyFile, &files.key_file},
      {kCaFile, &files.ca_file}};
  for (const auto& [name, value] : values) {
    if (value->empty()) continue;
    COMSEC_RETURN_IF_ERROR(tx->SetValue(key, RegValue::String(std::string(name), *value)));
  }
  return tx->Commit();
}

Status MapTlsCertificate(Store* store, TlsMappingKind kind, std::string_view certificate,
                         std::string_view account) {
  COMSEC_ASSIGN_OR_RETURN(std::string name, MappingName(kind, certificate));
  if (account.empty()) return Status(E_INVALIDARG, "an empty account name");
  COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginWrite());
  COMSEC_RETURN_IF_ERROR(tx->SetValue(MappingKey(kind), RegValue::String(name, account)));
  return tx->Commit();
}

Status UnmapTlsCertificate(Store* store, TlsMappingKind kind, std::string_view certificate) {
  COMSEC_ASSIGN_OR_RETURN(std::string name, MappingName(kind, certificate));
  COMSEC_ASSIGN_OR_RETURN(auto tx, store->BeginWrite());
  COMSEC_ASSIGN_OR_RETURN(auto existing, tx->reader().GetValue(MappingKey(kind), name));
  if (!existing) {
    return Status(ERROR_NOT_FOUND, std::string("no TLS mapping for the ") +
                                       TlsMappingKindName(kind) + " " + name);
  }
  COMSEC_RETURN_IF_ERROR(tx->DeleteValue(MappingKey(kind), name));
  return tx->Commit();
}

Result<std::vector<TlsCertificateMapping>> ListTlsMappings(Store* store) {
  COMSEC_ASSIGN_OR_RETURN(auto reader, store->BeginRead());
  std::vector<TlsCertificateMapping> out;
  for (TlsMappingKind kind : {TlsMappingKind::kThumbprint, TlsMappingKind::kSubject}) {
    COMSEC_ASSIGN_OR_RETURN(auto values, reader->ReadValues(MappingKey(kind)));
    if (!values) continue;
    for (const RegValue& v : *values) {
      COMSEC_ASSIGN_OR_RETURN(std::string account, v.AsString());
      out.push_back({kind, v.name, std::move(account)});
    }
  }
  return out;
}

Result<std::optional<std::string>> FindTlsMapping(ReadTransaction& reader,
                                                  std::string_view subject,
                                                  std::string_view thumbprint) {
  const std::pair<TlsMappingKind, std::string_view> lookups[] = {
      {TlsMappingKind::kThumbprint, thumbprint}, {TlsMappingKind::kSubject, subject}};
  for (const auto& [kind, name] : lookups) {
    if (name.empty()) continue;
    COMSEC_ASSIGN_OR_RETURN(std::optional<RegValue> v, reader.GetValue(MappingKey(kind), name));
    if (!v) continue;
    COMSEC_ASSIGN_OR_RETURN(std::string account, v->AsString());
    return std::optional<std::string>(std::move(account));
  }
  return std::optional<std::string>();
}

}  // namespace comsec::config
