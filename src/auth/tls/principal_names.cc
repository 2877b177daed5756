#include "comsec/auth/tls/principal_names.h"

#include <openssl/crypto.h>
#include <openssl/objects.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace comsec::auth::tls {
namespace {

bool StartsWithIgnoringCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(s[i])) !=
        std::tolower(static_cast<unsigned char>(prefix[i]))) {
      return false;
    }
  }
  return true;
}

// RFC 1779 2.3's keywords, E for e-mail (as CertNameToStr), else OID.n.n.n.
std::string KeywordOf(const ASN1_OBJECT* type) {
  switch (OBJ_obj2nid(type)) {
    case NID_commonName: return "CN";
    case NID_localityName: return "L";
    case NID_stateOrProvinceName: return "ST";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_countryName: return "C";
    case NID_streetAddress: return "STREET";
    case NID_pkcs9_emailAddress: return "E";
    default: break;
  }
  char oid[128];
  const int n = OBJ_obj2txt(oid, sizeof oid, type, /*no_name=*/1);
  if (n <= 0 || static_cast<size_t>(n) >= sizeof oid) return "OID.?";
  return std::string("OID.") + oid;
}

std::string Utf8Of(const ASN1_STRING* value) {
  unsigned char* utf8 = nullptr;
  const int n = ASN1_STRING_to_UTF8(&utf8, value);
  if (n < 0) return {};
  std::string out(reinterpret_cast<char*>(utf8), static_cast<size_t>(n));
  OPENSSL_free(utf8);
  return out;
}

// RFC 1779 2.2: a value with a special character, or with leading or
// trailing spaces, is quoted; inside quotes, \ and " are escaped. '\\' and
// '>' are among the quoted characters so that the fullsic form stays
// splittable (file comment).
std::string QuotedValue(const std::string& v) {
  const bool special =
      v.empty() || v.front() == ' ' || v.back() == ' ' ||
      v.find_first_of(",+=\"\\<>#;\r\n") != std::string::npos;
  if (!special) return v;
  std::string out = "\"";
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

bool SelfIssued(X509* cert) {
  return X509_NAME_cmp(X509_get_subject_name(cert), X509_get_issuer_name(cert)) == 0;
}

}  // namespace

std::string Rfc1779Name(const X509_NAME* name) {
  const int count = X509_NAME_entry_count(name);
  std::string out;
  // Entries in encoding order; an RDN is the run of entries sharing a set
  // number. Written from the last RDN to the first.
  int i = count - 1;
  while (i >= 0) {
    const int set = X509_NAME_ENTRY_set(X509_NAME_get_entry(name, i));
    int first = i;
    while (first > 0 && X509_NAME_ENTRY_set(X509_NAME_get_entry(name, first - 1)) == set) {
      --first;
    }
    if (!out.empty()) out += ", ";
    for (int j = first; j <= i; ++j) {
      const X509_NAME_ENTRY* e = X509_NAME_get_entry(name, j);
      if (j != first) out += " + ";
      out += KeywordOf(X509_NAME_ENTRY_get_object(e));
      out += '=';
      out += QuotedValue(Utf8Of(X509_NAME_ENTRY_get_data(e)));
    }
    i = first - 1;
  }
  return out;
}

Result<std::string> MsstdPrincipalName(X509* certificate) {
  // R36/R52: an e-mail name with '@' first (subjectAltName rfc822Name, then
  // the subject's emailAddress, as X509_get1_email lists them).
  std::string name;
  if (STACK_OF(OPENSSL_STRING)* emails = X509_get1_email(certificate)) {
    for (int i = 0; i < sk_OPENSSL_STRING_num(emails); ++i) {
      std::string e = sk_OPENSSL_STRING_value(emails, i);
      if (e.find('@') != std::string::npos) {
        name = std::move(e);
        break;
      }
    }
    X509_email_free(emails);
  }
  if (name.empty()) {
    X509_NAME* subject = X509_get_subject_name(certificate);
    const int i = X509_NAME_get_index_by_NID(subject, NID_commonName, -1);
    if (i >= 0) name = Utf8Of(X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subject, i)));
  }
  if (name.empty()) {
    return Status(RPC_E_INVALID_STD_NAME,
                  "the certificate has neither an e-mail name nor a common name, so it has no "
                  "msstd principal name");
  }
  std::string out = "msstd:";
  for (char c : name) {
    if (c == '\\') out += '\\';  // doubled, as in string bindings
    out += c;
  }
  return out;
}

std::string FullsicPrincipalName(X509* certificate, STACK_OF(X509) * chain) {
  // Leaf first, then each issuer found in `chain`.
  std::vector<X509*> path = {certificate};
  const int available = chain ? sk_X509_num(chain) : 0;
  while (!SelfIssued(path.back()) && static_cast<int>(path.size()) <= available) {
    X509* next = nullptr;
    for (int i = 0; i < available && next == nullptr; ++i) {
      X509* candidate = sk_X509_value(chain, i);
      if (std::find(path.begin(), path.end(), candidate) != path.end()) continue;
      if (X509_NAME_cmp(X509_get_subject_name(candidate),
                        X509_get_issuer_name(path.back())) == 0) {
        next = candidate;
      }
    }
    if (next == nullptr) break;
    path.push_back(next);
  }
  std::string out = "fullsic:\\<";
  if (!SelfIssued(path.back())) {
    out += '\\';
    out += Rfc1779Name(X509_get_issuer_name(path.back()));
  }
  for (auto it = path.rbegin(); it != path.rend(); ++it) {
    out += '\\';
    out += Rfc1779Name(X509_get_subject_name(*it));
  }
  out += '>';
  return out;
}

Result<SchannelPrincipalNames> RenderSchannelPrincipalNames(X509* certificate,
                                                            STACK_OF(X509) * chain) {
  SchannelPrincipalNames names;
  COMSEC_ASSIGN_OR_RETURN(names.msstd, MsstdPrincipalName(certificate));
  names.fullsic = FullsicPrincipalName(certificate, chain);
  return names;
}

bool IsFullsicName(std::string_view name) {
  constexpr std::string_view kPrefix = "fullsic:\\<";
  if (!StartsWithIgnoringCase(name, kPrefix)) return false;
  name.remove_prefix(kPrefix.size());
  if (name.empty() || name.front() != '\\') return false;
  bool quoted = false;
  size_t names = 0;
  bool after_separator = false;
  for (size_t i = 0; i < name.size(); ++i) {
    const char c = name[i];
    if (quoted) {
      if (c == '\\') {
        if (++i == name.size()) return false;  // an escape needs its character
      } else if (c == '"') {
        quoted = false;
      }
      after_separator = false;
      continue;
    }
    if (c == '"') {
      quoted = true;
    } else if (c == '\\') {
      if (after_separator) return false;  // an empty name
      ++names;
      after_separator = true;
      continue;
    } else if (c == '>') {
      // The closing bracket ends the name, after a non-empty last name.
      return i + 1 == name.size() && !after_separator && names > 0;
    }
    after_separator = false;
  }
  return false;  // no closing bracket, or an open quote
}

bool IsMsstdName(std::string_view name) {
  return StartsWithIgnoringCase(name, "msstd:") && name.size() > 6;
}

}  // namespace comsec::auth::tls
