// Fuzz target: the TLS package's server context on hostile bytes. The
// first byte picks where they go:
//   0: the bind's token (a ClientHello, as a client would send);
//   1: the alter_context's token, after a real client's ClientHello and
//      the server's answer (the client's certificate and Finished leg);
//   2: a PDU verified at PKT_PRIVACY or PKT_INTEGRITY after a completed
//      handshake (the rest: a stub length byte, then stub and auth_value).
// The package only feeds OpenSSL, but the framing around it (record
// lengths, leftover bytes, the sealed digest) is ours. Nothing may crash,
// and a context that refused once refuses everything after.
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "../tests/auth/tls_test_certs.h"
#include "comsec/auth/tls/tls_package.h"
#include "comsec/rpc/pdu.h"

namespace {

using namespace comsec;

struct Packages {
  std::unique_ptr<auth::tls::TlsPackage> server, client;
  Packages() {
    std::string dir = "/tmp/comsec-tls-fuzz-XXXXXX";
    if (mkdtemp(dir.data()) == nullptr) __builtin_trap();
    auto ca = tls_test::Issue(dir, "ca", "fuzz CA", nullptr, true);
    auto server_cert = tls_test::Issue(dir, "server", "localhost", &ca, false, "DNS:localhost");
    auth::tls::TlsServerOptions so;
    so.certificate_file = server_cert.certificate_file;
    so.key_file = server_cert.key_file;
    so.ca_file = ca.certificate_file;
    auto s = auth::tls::TlsPackage::CreateServer(so);
    auto c = auth::tls::TlsPackage::CreateClient({ca.certificate_file, "", ""});
    if (!s.ok() || !c.ok()) __builtin_trap();
    server = std::move(*s);
    client = std::move(*c);
    tls_test::Free(ca);
    tls_test::Free(server_cert);
    std::filesystem::remove_all(dir);
  }
};

rpc::StartParams Params(rpc::Role role, security::AuthnLevel level) {
  rpc::StartParams p;
  p.role = role;
  p.auth_level = level;
  return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static Packages packages;
  if (size == 0) return 0;
  const uint8_t mode = data[0] % 3;
  std::span<const uint8_t> in(data + 1, size - 1);
  const auto level = (data[0] & 0x80) ? security::AuthnLevel::kPktIntegrity
                                      : security::AuthnLevel::kPktPrivacy;
  auto server = packages.server->Start(Params(rpc::Role::kServer, level));
  if (!server.ok()) __builtin_trap();
  if (mode == 0) {
    auto r = (*server)->Update(in);
    if (!r.ok() && (*server)->Update(in).ok()) __builtin_trap();
    return 0;
  }
  auto client = packages.client->Start(Params(rpc::Role::kClient, level));
  if (!client.ok()) __builtin_trap();
  auto hello = (*client)->Update({});
  if (!hello.ok()) __builtin_trap();
  auto flight = (*server)->Update(hello->output);
  if (!flight.ok()) __builtin_trap();
  if (mode == 1) {
    auto r = (*server)->Update(in);
    if (r.ok() && r->done && (*server)->PeerToken() == nullptr) __builtin_trap();
    return 0;
  }
  auto finished = (*client)->Update(flight->output);
  if (!finished.ok()) __builtin_trap();
  auto accepted = (*server)->Update(finished->output);
  if (!accepted.ok() || !accepted->done) __builtin_trap();
  if (in.empty()) return 0;
  const size_t stub = std::min<size_t>(in[0], in.size() - 1);
  std::vector<uint8_t> pdu(24 + stub + rpc::kSecTrailerSize);
  std::copy(in.begin() + 1, in.begin() + 1 + static_cast<ptrdiff_t>(stub), pdu.begin() + 24);
  const size_t sig = (*server)->SignatureSize(stub);
  std::vector<uint8_t> signature(sig);
  const auto rest = in.subspan(1 + stub);
  std::copy_n(rest.begin(), std::min(sig, rest.size()), signature.begin());
  pdu.insert(pdu.end(), signature.begin(), signature.end());
  rpc::PduRegion r;
  r.pdu = pdu;
  r.stub_begin = 24;
  r.stub_end = 24 + stub;
  r.signature = std::span<uint8_t>(pdu.data() + pdu.size() - sig, sig);
  r.level = level;
  if ((*server)->Verify(r).ok()) __builtin_trap();  // forging a record is not expected
  return 0;
}
