#include "comsec/auth/peer_cred/local_package.h"

#include <pwd.h>

#include <algorithm>

#include "comsec/security/unix_identity.h"

namespace comsec::auth {
namespace {

constexpr size_t kSignatureSize = 16;

class LocalContext : public rpc::SecurityContext {
 public:
  explicit LocalContext(const rpc::ConnectionInfo& c) : connection_(c) {}

  Result<std::vector<uint8_t>> Accept(std::span<const uint8_t> token) override {
    if (!std::equal(token.begin(), token.end(), kLocalToken.begin(),
                    kLocalToken.end())) {
      return Status(HResult(0x80090308u),  // SEC_E_INVALID_TOKEN
                    "not a local-package token");
    }
    complete_ = true;
    token_ = MakeToken();
    return std::vector<uint8_t>(kLocalToken.begin(), kLocalToken.end());
  }
  Result<std::vector<uint8_t>> Initiate(std::span<const uint8_t> token) override {
    if (token.empty()) return std::vector<uint8_t>(kLocalToken.begin(), kLocalToken.end());
    if (!std::equal(token.begin(), token.end(), kLocalToken.begin(),
                    kLocalToken.end())) {
      return Status(HResult(0x80090308u), "not a local-package token");
    }
    complete_ = true;
    return std::vector<uint8_t>{};
  }
  bool IsComplete() const override { return complete_; }
  size_t SignatureSize() const override { return kSignatureSize; }

  Status Verify(std::span<uint8_t>, size_t, size_t, uint8_t,
                std::span<const uint8_t> signature) override {
    // The transport protects the bytes; the verifier must still be whole.
    if (signature.size() != kSignatureSize ||
        !std::all_of(signature.begin(), signature.end(),
                     [](uint8_t b) { return b == 0; })) {
      return Status(HResult(0x8009030Fu),  // SEC_E_MESSAGE_ALTERED
                    "local package verifier is malformed");
    }
    return Status();
  }
  Status Protect(std::span<uint8_t>, size_t, size_t, uint8_t,
                 std::span<uint8_t> signature) override {
    std::fill(signature.begin(), signature.end(), 0);
    return Status();
  }

  std::string PeerName() const override {
    if (!connection_.has_peer) return "NT AUTHORITY\\ANONYMOUS LOGON";
    std::vector<char> buf(4096);
    passwd pw;
    passwd* found = nullptr;
    if (getpwuid_r(connection_.peer_uid, &pw, buf.data(), buf.size(), &found) == 0 &&
        found) {
      return std::string("unix:") + found->pw_name;
    }
    return "uid:" + std::to_string(connection_.peer_uid);
  }

  std::shared_ptr<const security::Token> PeerToken() const override {
    return token_;
  }

 private:
  // The kernel's uid and the system's group database make the token; a
  // uid without a passwd entry keeps its primary gid from the kernel.
  std::shared_ptr<const security::Token> MakeToken() const {
    security::UnixIdentity id;
    auto found = security::LookupUnixUser(connection_.peer_uid);
    if (found.ok()) {
      id = std::move(*found);
    } else {
      id.uid = connection_.peer_uid;
      id.gids = {connection_.peer_gid};
      id.group_names = {""};
    }
    return std::make_shared<const security::Token>(
        security::TokenForUnixIdentity(id, security::UnixTokenOptions{}));
  }

  rpc::ConnectionInfo connection_;
  bool complete_ = false;
  std::shared_ptr<const security::Token> token_;
};

Status NotLocal() {
  return Status(E_ACCESSDENIED,
                "the local package serves only ncalrpc connections, where the "
                "kernel identifies the caller");
}

}  // namespace

Result<std::unique_ptr<rpc::SecurityContext>> LocalPackage::NewServerContext(
    const rpc::ConnectionInfo& connection) {
  if (!connection.local || !connection.has_peer) return NotLocal();
  return std::unique_ptr<rpc::SecurityContext>(new LocalContext(connection));
}

Result<std::unique_ptr<rpc::SecurityContext>> LocalPackage::NewClientContext(
    const rpc::ConnectionInfo& connection) {
  if (!connection.local) return NotLocal();
  return std::unique_ptr<rpc::SecurityContext>(new LocalContext(connection));
}

}  // namespace comsec::auth
