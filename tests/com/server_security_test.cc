// The server side of a call's security (com/server_security.h; rules
// R91-R100): CoGetCallContext, QueryBlanket, ImpersonateClient,
// RevertToSelf, IsImpersonating, the automatic revert at the end of a
// method (R96) and nested invocations (R97). The scopes are the ones the
// object exporter opens around each method; the callers' tokens are real
// Unix identities (nobody, daemon), and as root the thread really switches.
#include "comsec/com/server_security.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include "comsec/security/unix_identity.h"

namespace comsec::com {
namespace {

rpc::CallSecurity CallerNamed(const char* user, security::AuthnLevel level,
                              security::ImpLevel imp = security::ImpLevel::kImpersonate) {
  rpc::CallSecurity s;
  s.authn_level = level;
  s.authn_svc = 20;
  s.imp_level = imp;
  auto id = security::LookupUnixUserByName(user);
  EXPECT_TRUE(id.ok()) << user;
  if (id.ok()) {
    s.principal = std::string("unix:") + user;
    s.token = std::make_shared<const security::Token>(
        security::TokenForUnixIdentity(*id, security::UnixTokenOptions{}));
  }
  return s;
}

uint32_t UidOf(const char* user) { return security::LookupUnixUserByName(user)->uid; }

TEST(ServerSecurity, OutsideACallThereIsNoContext) {
  auto c = CoGetCallContext();
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoImpersonateClient(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoRevertToSelf(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CoQueryClientBlanket().status().code(), RPC_E_NO_CONTEXT);
  EXPECT_EQ(CurrentImpersonationToken(), nullptr);
}

TEST(ServerSecurity, AnUnauthenticatedCallerCannotBeImpersonated) {
  rpc::CallSecurity none;  // level NONE, no token
  ServerCallScope scope(none);
  auto blanket = CoQueryClientBlanket();
  ASSERT_TRUE(blanket.ok());
  EXPECT_EQ(blanket->authn_level, 1u);
  EXPECT_EQ(blanket->client_principal, "");
  // C12: HRESULT_FROM_WIN32(RPC_S_NO_CONTEXT_AVAILABLE), 0x800706E5.
  EXPECT_EQ(CoImpersonateClient(), HResult(0x800706E5u));
  EXPECT_FALSE((*CoGetCallContext())->IsImpersonating());
}

TEST(ServerSecurity, ImpersonateRevertAndTheAutomaticRevert) {
  const uid_t self = ::geteuid();
  const bool root = self == 0;
  std::shared_ptr<ServerSecurity> kept;
  {
    ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktPrivacy));
    kept = *CoGetCallContext();
    auto blanket = kept->QueryBlanket();
    ASSERT_TRUE(blanket.ok());
    EXPECT_EQ(blanket->client_principal, "unix:nobody");
    EXPECT_EQ(blanket->authn_level, 6u);
    EXPECT_EQ(blanket->authn_svc, 20u);
    EXPECT_FALSE(kept->IsImpersonating());
    EXPECT_EQ(CoImpersonateClient(), HResult(0));
    EXPECT_EQ(CoImpersonateClient(), HResult(0));  // twice...
    EXPECT_TRUE(kept->IsImpersonating());
    ASSERT_NE(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(CurrentImpersonationToken()->user(), kept->security().token->user());
    if (root) {
      EXPECT_EQ(::geteuid(), UidOf("nobody"));
      EXPECT_EQ(ImpersonatedUid(), UidOf("nobody"));
    } else {
      EXPECT_EQ(::geteuid(), self);  // an identification only
      EXPECT_EQ(ImpersonatedUid(), std::nullopt);
    }
    EXPECT_EQ(CoRevertToSelf(), HResult(0));  // ...one revert (R98)
    EXPECT_FALSE(kept->IsImpersonating());
    EXPECT_EQ(::geteuid(), self);
    // Left impersonating when the method returns:
    EXPECT_EQ(kept->ImpersonateClient(), HResult(0));
  }
  // R96: COM reverted for it.
  EXPECT_EQ(::geteuid(), self);
  EXPECT_EQ(CurrentImpersonationToken(), nullptr);
  EXPECT_FALSE(kept->IsImpersonating());
  // R91: a context kept past its call.
  EXPECT_EQ(kept->ImpersonateClient(), RPC_E_CALL_COMPLETE);
  EXPECT_EQ(kept->QueryBlanket().status().code(), RPC_E_CALL_COMPLETE);
}

TEST(ServerSecurity, AtIdentifyOnlyTheTokenChanges) {
  const uid_t self = ::geteuid();
  ServerCallScope scope(
      CallerNamed("nobody", security::AuthnLevel::kConnect, security::ImpLevel::kIdentify));
  EXPECT_EQ(CoImpersonateClient(), HResult(0));
  EXPECT_TRUE((*CoGetCallContext())->IsImpersonating());
  EXPECT_NE(CurrentImpersonationToken(), nullptr);
  EXPECT_EQ(ImpersonatedUid(), std::nullopt);
  EXPECT_EQ(::geteuid(), self);
}

TEST(ServerSecurity, ANestedCallLeavesTheOuterImpersonationAsItFoundIt) {
  const uid_t self = ::geteuid();
  const bool root = self == 0;
  ServerCallScope outer(CallerNamed("nobody", security::AuthnLevel::kPktIntegrity));
  ASSERT_EQ(CoImpersonateClient(), HResult(0));
  const auto outer_token = CurrentImpersonationToken();
  {
    // A call into this thread while the outer one waits (an STA's
    // callback): it starts as the server, not as the outer caller.
    ServerCallScope inner(CallerNamed("daemon", security::AuthnLevel::kPktPrivacy));
    EXPECT_EQ(CurrentImpersonationToken(), nullptr);
    EXPECT_EQ(::geteuid(), self);
    ASSERT_EQ(CoImpersonateClient(), HResult(0));
    if (root) {
      EXPECT_EQ(::geteuid(), UidOf("daemon"));
    }
    EXPECT_EQ(CoRevertToSelf(), HResult(0));
  }
  // R97: the outer invocation impersonates its caller again.
  EXPECT_EQ(CurrentImpersonationToken(), outer_token);
  EXPECT_TRUE((*CoGetCallContext())->IsImpersonating());
  if (root) {
    EXPECT_EQ(::geteuid(), UidOf("nobody"));
  }
  EXPECT_EQ(CoRevertToSelf(), HResult(0));
  EXPECT_EQ(::geteuid(), self);
}

TEST(ServerSecurity, R101_CoSwitchCallContextInstallsAndRestoresAContext) {
  EXPECT_EQ(CoSwitchCallContext(nullptr), nullptr);  // no call: the old one is null
  EXPECT_EQ(CoGetCallContext().status().code(), RPC_E_NO_CONTEXT);
  auto custom = std::make_shared<ServerSecurity>(
      CallerNamed("daemon", security::AuthnLevel::kPktIntegrity));
  EXPECT_EQ(CoSwitchCallContext(custom.get()), nullptr);
  auto c = CoGetCallContext();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->get(), custom.get());
  EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:daemon");
  {
    // A call served meanwhile sees its own context, and leaves the switch.
    ServerCallScope scope(CallerNamed("nobody", security::AuthnLevel::kPktPrivacy));
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:nobody");
    ServerSecurity* old = CoSwitchCallContext(custom.get());
    EXPECT_EQ(old, scope.context().get());
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:daemon");
    EXPECT_EQ(CoSwitchCallContext(old), custom.get());
    EXPECT_EQ(CoQueryClientBlanket()->client_principal, "unix:nobody");
  }
  EXPECT_EQ(CoGetCallContext()->get(), custom.get());
  EXPECT_EQ(CoSwitchCallContext(nullptr), custom.get());
  EXPECT_EQ(CoGetCallContext().status().code(), RPC_E_NO_CONTEXT);
}

}  // namespace
}  // namespace comsec::com
