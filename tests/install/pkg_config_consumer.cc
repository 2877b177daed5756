// Built by install_test.sh with nothing but `pkg-config --cflags --libs
// comsec` against an installed comsec: it touches every layer (and, through
// them, OpenSSL and SQLite), so a header missing from include/comsec/, a
// library missing from Libs or out of link order fails to build or link.
// Exit 0 when every answer is right; the first wrong one is printed.
#include <cstdio>
#include <string>

#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/config/store.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "comsec/rpc/binding.h"
#include "comsec/security/sddl.h"

namespace {

int Fail(const std::string& what) {
  std::fprintf(stderr, "pkg_config_consumer: %s\n", what.c_str());
  return 1;
}

std::string Hex(const comsec::auth::ntlm::Digest16& d) {
  static const char kDigits[] = "0123456789abcdef";
  std::string out;
  for (uint8_t b : d) {
    out += kDigits[b >> 4];
    out += kDigits[b & 15];
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  using namespace comsec;
  if (argc != 2) return Fail("usage: pkg_config_consumer STORE_PATH");

  // security: an SDDL round trip.
  const std::string sddl = "O:BAG:BAD:(A;;CCDCLCSWRP;;;BA)(A;;CCDCSW;;;WD)";
  auto sd = security::ParseSddl(sddl);
  if (!sd.ok()) return Fail(sd.status().ToString());
  auto text = security::FormatSddl(*sd);
  if (!text.ok() || *text != sddl) return Fail("SDDL did not round-trip");

  // ndr: a big-endian long decodes in its sender's representation.
  const uint8_t be[] = {0x01, 0x02, 0x03, 0x04};
  ndr::Decoder d(be, ndr::DataRep{false});
  auto v = d.U32();
  if (!v.ok() || *v != 0x01020304u) return Fail("NDR big-endian U32");

  // rpc: a string binding.
  auto binding = rpc::StringBinding::Parse("ncacn_ip_tcp:127.0.0.1[135]");
  if (!binding.ok() || !binding->IsTcp()) return Fail("string binding");

  // config (SQLite): a value written and read back.
  auto store = config::Store::Open(argv[1]);
  if (!store.ok()) return Fail(store.status().ToString());
  auto key = config::KeyPath::Parse("HKLM\\SOFTWARE\\comsec-install-test");
  if (!key.ok()) return Fail(key.status().ToString());
  if (Status s =
          (*store)->SetValue(*key, config::RegValue::Dword("answer", 42));
      !s.ok()) {
    return Fail(s.ToString());
  }
  auto got = (*store)->GetValue(*key, "answer");
  if (!got.ok() || !*got || !(*got)->AsDword().ok() ||
      *(*got)->AsDword() != 42) {
    return Fail("store value did not read back");
  }

  // auth: NTOWFv2 of [MS-NLMP] 4.2.4.1.1 (MD4 is comsec's own, HMAC-MD5
  // OpenSSL's).
  auth::ntlm::Digest16 nt = auth::ntlm::NtHashOfPassword("Password");
  if (Hex(nt) != "a4f49c406510bdcab6824ee7c30fd852")
    return Fail("NT hash " + Hex(nt));
  auth::ntlm::Digest16 owf = auth::ntlm::NtOwfV2(nt, u"User", u"Domain");
  if (Hex(owf) != "0c868a403bfd7a93a3001ef22ef02e3f")
    return Fail("NTOWFv2 " + Hex(owf));

  std::printf("comsec via pkg-config: every layer answered\n");
  return 0;
}
