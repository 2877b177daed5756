#include "comsec/auth/peer_cred/local_package.h"

#include <pwd.h>

#include <algorithm>

#include "comsec/security/unix_identity.h"

namespace comsec::auth {
namespace {

constexpr size_t kSignatureSize = 16;

class LocalContext : public rpc::SecurityContext {
 public:
  LocalContext(rpc::Role role, const rpc::ConnectionInfo& c, security::ImpLevel imp_level)
      : server_(role == rpc::Role::kServer), connection_(c), imp_level_(imp_level) {}

  Result<rpc::UpdateResult> Update(std::span<const uint8_t> token) override {
    COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> out,
                            server_ ? Accept(token) : Initiate(token));
    // The server's one leg completes it; the client is done when it has
    // read the server's answer.
    return rpc::UpdateResult{std::move(out), complete_};
  }
  uint32_t features() const override {
    // The transport keeps the bytes on this machine and the kernel names
    // both ends: integrity, privacy and the server's identity (checked by
    // the client's SO_PEERCRED test) come from it.
    return complete_ ? rpc::kFeatureSign | rpc::kFeatureSeal | rpc::kFeatureMutualAuth : 0;
  }

  Result<std::vector<uint8_t>> Accept(std::span<const uint8_t> token) {
    const bool limited = token.size() == kLocalToken.size() + 1;
    if ((token.size() != kLocalToken.size() && !limited) ||
        !std::equal(kLocalToken.begin(), kLocalToken.end(), token.begin())) {
      return Status(SEC_E_INVALID_TOKEN,  // SEC_E_INVALID_TOKEN
                    "not a local-package token");
    }
    imp_level_ = security::ImpLevel::kImpersonate;
    if (limited) {
      const uint8_t level = token.back();
      if (level != security::ToNumber(security::ImpLevel::kAnonymous) &&
          level != security::ToNumber(security::ImpLevel::kIdentify)) {
        return Status(SEC_E_INVALID_TOKEN,
                      "the local-package token's impersonation level byte " +
                          std::to_string(level) + " is not ANONYMOUS (1) or IDENTIFY (2)");
      }
      imp_level_ = static_cast<security::ImpLevel>(level);
    }
    complete_ = true;
    token_ = MakeToken();
    return std::vector<uint8_t>(kLocalToken.begin(), kLocalToken.end());
  }
  Result<std::vector<uint8_t>> Initiate(std::span<const uint8_t> token) {
    if (token.empty()) {
      std::vector<uint8_t> out(kLocalToken.begin(), kLocalToken.end());
      if (imp_level_ == security::ImpLevel::kAnonymous ||
          imp_level_ == security::ImpLevel::kIdentify) {
        out.push_back(static_cast<uint8_t>(security::ToNumber(imp_level_)));
      }
      return out;
    }
    if (!std::equal(token.begin(), token.end(), kLocalToken.begin(),
                    kLocalToken.end())) {
      return Status(SEC_E_INVALID_TOKEN, "not a local-package token");
    }
    complete_ = true;
    return std::vector<uint8_t>{};
  }
  bool IsComplete() const override { return complete_; }
  size_t SignatureSize(size_t) const override { return kSignatureSize; }

  Status Verify(const rpc::PduRegion& region) override {
    std::span<const uint8_t> signature = region.signature;
    // The transport protects the bytes; the verifier must still be whole.
    if (signature.size() != kSignatureSize ||
        !std::all_of(signature.begin(), signature.end(),
                     [](uint8_t b) { return b == 0; })) {
      return Status(SEC_E_MESSAGE_ALTERED, "local package verifier is malformed");
    }
    return Status();
  }
  Status Protect(const rpc::PduRegion& region) override {
    std::fill(region.signature.begin(), region.signature.end(), 0);
    return Status();
  }

  security::ImpLevel imp_level() const override { return imp_level_; }

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

  bool server_;
  rpc::ConnectionInfo connection_;
  bool complete_ = false;
  // Client: what it grants; server: what the client's token granted.
  security::ImpLevel imp_level_;
  std::shared_ptr<const security::Token> token_;
};

Status NotLocal() {
  return Status(E_ACCESSDENIED,
                "the local package serves only ncalrpc connections, where the "
                "kernel identifies the caller");
}

}  // namespace

Result<std::unique_ptr<rpc::SecurityContext>> LocalPackage::Start(
    const rpc::StartParams& params) {
  const rpc::ConnectionInfo& connection = params.connection;
  if (params.role == rpc::Role::kServer) {
    if (!connection.local || !connection.has_peer) return NotLocal();
  } else if (!connection.local) {
    return NotLocal();
  }
  return std::unique_ptr<rpc::SecurityContext>(
      new LocalContext(params.role, connection, params.imp_level));
}

}  // namespace comsec::auth
