// Test certificates for the TLS package, made with OpenSSL's API into a
// directory: a CA, certificates it issues (EC P-256, SHA-256), and PEM
// files the package loads. For tests and the TLS fuzzer only.
#pragma once

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdio>
#include <stdexcept>
#include <string>

namespace comsec::tls_test {

struct Issued {
  std::string certificate_file;
  std::string key_file;
  X509* certificate = nullptr;  // owned
  EVP_PKEY* key = nullptr;      // owned
};

inline void WritePem(const std::string& path, X509* cert, EVP_PKEY* key) {
  FILE* f = std::fopen(path.c_str(), "w");
  if (f == nullptr) throw std::runtime_error("cannot write " + path);
  if (cert) PEM_write_X509(f, cert);
  if (key) PEM_write_PrivateKey(f, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(f);
}

// A certificate for `cn` signed by `issuer` (self-signed when null), with
// `san` (e.g. "DNS:localhost,email:a@b") when not empty; `days` negative
// makes it expired.
inline Issued Issue(const std::string& dir, const std::string& file_stem, const std::string& cn,
                    const Issued* issuer, bool ca, const std::string& san = "",
                    long days = 30) {
  Issued out;
  out.key = EVP_EC_gen("P-256");
  X509* x = X509_new();
  X509_set_version(x, 2);
  static long serial = 1;
  ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
  if (days >= 0) {
    X509_gmtime_adj(X509_getm_notBefore(x), -3600);
    X509_gmtime_adj(X509_getm_notAfter(x), days * 86400L);
  } else {
    X509_gmtime_adj(X509_getm_notBefore(x), -86400L * 10);
    X509_gmtime_adj(X509_getm_notAfter(x), -86400L);
  }
  X509_set_pubkey(x, out.key);
  X509_NAME* name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("comsec test"), -1, -1, 0);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  X509* issuer_cert = issuer ? issuer->certificate : x;
  EVP_PKEY* issuer_key = issuer ? issuer->key : out.key;
  X509_set_issuer_name(x, X509_get_subject_name(issuer_cert));
  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, issuer_cert, x, nullptr, nullptr, 0);
  auto add = [&](int nid, const std::string& value) {
    X509_EXTENSION* e = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
    if (e == nullptr) throw std::runtime_error("bad extension " + value);
    X509_add_ext(x, e, -1);
    X509_EXTENSION_free(e);
  };
  add(NID_basic_constraints, ca ? "critical,CA:TRUE" : "critical,CA:FALSE");
  add(NID_key_usage, ca ? "critical,keyCertSign,cRLSign" : "critical,digitalSignature");
  add(NID_subject_key_identifier, "hash");
  if (!ca) add(NID_ext_key_usage, "serverAuth,clientAuth");
  if (!san.empty()) add(NID_subject_alt_name, san);
  X509_sign(x, issuer_key, EVP_sha256());
  out.certificate = x;
  out.certificate_file = dir + "/" + file_stem + ".pem";
  out.key_file = dir + "/" + file_stem + ".key";
  WritePem(out.certificate_file, x, nullptr);
  WritePem(out.key_file, nullptr, out.key);
  return out;
}

inline void Free(Issued& i) {
  X509_free(i.certificate);
  EVP_PKEY_free(i.key);
  i.certificate = nullptr;
  i.key = nullptr;
}

// SHA-256 thumbprint in lower-case hex.
inline std::string Thumbprint(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  X509_digest(cert, EVP_sha256(), md, &n);
  static const char* kHex = "0123456789abcdef";
  std::string s;
  for (unsigned int i = 0; i < n; ++i) {
    s += kHex[md[i] >> 4];
    s += kHex[md[i] & 15];
  }
  return s;
}

}  // namespace comsec::tls_test
