// COM's IAccessControl (com/dcom_access_control.h; R143, R156-R158) and
// its use by the per-call access check under EOAC_ACCESS_CONTROL.
#include "comsec/com/dcom_access_control.h"

#include <gtest/gtest.h>

#include "comsec/com/server_security.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::com {
namespace {

using security::Sid;

security::Token UnixToken(uint32_t uid, std::vector<uint32_t> gids) {
  security::UnixIdentity id;
  id.uid = uid;
  id.gids = gids;
  id.group_names.assign(gids.size(), "");
  return security::TokenForUnixIdentity(id, security::UnixTokenOptions{});
}

ActrlAccess List(std::vector<ActrlAccessEntry> entries) {
  ActrlAccess a;
  a.entries = std::move(entries);
  return a;
}

ActrlAccessEntry Allow(Sid sid) { return {Trustee::OfSid(std::move(sid)), ACTRL_ACCESS_ALLOWED, 1}; }
ActrlAccessEntry Deny(Sid sid) { return {Trustee::OfSid(std::move(sid)), ACTRL_ACCESS_DENIED, 1}; }

TEST(DcomAccessControl, R157_GrantMergesNewDeniesOldDeniesNewAllowsOldAllows) {
  DcomAccessControl acl;
  const Sid a = security::UnixUserSid(1000), b = security::UnixUserSid(1001),
            c = security::UnixUserSid(1002), d = security::UnixUserSid(1003);
  ASSERT_EQ(acl.SetAccessRights(List({Allow(a), Deny(b)})), S_OK);
  ASSERT_EQ(acl.GrantAccessRights(List({Allow(c), Deny(d)})), S_OK);
  auto all = acl.GetAllAccessRights(std::nullopt);
  ASSERT_TRUE(all.ok());
  ASSERT_EQ(all->entries.size(), 4u);
  EXPECT_EQ(*all->entries[0].trustee.sid, d);
  EXPECT_EQ(all->entries[0].access_flags, ACTRL_ACCESS_DENIED);
  EXPECT_EQ(*all->entries[1].trustee.sid, b);
  EXPECT_EQ(*all->entries[2].trustee.sid, c);
  EXPECT_EQ(all->entries[2].access_flags, ACTRL_ACCESS_ALLOWED);
  EXPECT_EQ(*all->entries[3].trustee.sid, a);
}

TEST(DcomAccessControl, R157_SetReplacesAndRevokeRemovesOnlyExplicitEntries) {
  DcomAccessControl acl;
  const Sid user = security::UnixUserSid(1000), group = security::UnixGroupSid(500);
  ASSERT_EQ(acl.SetAccessRights(List({Allow(user), Allow(group)})), S_OK);
  const security::Token token = UnixToken(1000, {500});
  EXPECT_TRUE(*acl.IsAccessAllowed(token, 1));
  ASSERT_EQ(acl.RevokeAccessRights(std::nullopt, {Trustee::OfSid(user)}), S_OK);
  // Still allowed through the group.
  EXPECT_TRUE(*acl.IsAccessAllowed(token, 1));
  EXPECT_FALSE(*acl.IsAccessAllowed(UnixToken(1000, {501}), 1));
  ASSERT_EQ(acl.SetAccessRights(List({Deny(user), Allow(group)})), S_OK);
  EXPECT_FALSE(*acl.IsAccessAllowed(token, 1));  // the deny comes first
  EXPECT_EQ(acl.GetAllAccessRights(std::nullopt)->entries.size(), 2u);
}

TEST(DcomAccessControl, R157_R158_RefusedArguments) {
  DcomAccessControl acl;
  EXPECT_EQ(acl.SetOwner(nullptr, nullptr), E_NOTIMPL);
  ActrlAccess two = List({Allow(security::UnixUserSid(1))});
  two.property_entries = 2;
  EXPECT_EQ(acl.GrantAccessRights(two), E_INVALIDARG);
  ActrlAccess named = List({Allow(security::UnixUserSid(1))});
  named.property = u"prop";
  EXPECT_EQ(acl.SetAccessRights(named), E_INVALIDARG);
  EXPECT_EQ(acl.GrantAccessRights(List({{Trustee::OfSid(security::UnixUserSid(1)), 0x5, 1}})),
            E_INVALIDARG);
  EXPECT_EQ(acl.GrantAccessRights(List({{Trustee::OfSid(security::UnixUserSid(1)),
                                          ACTRL_ACCESS_ALLOWED, 2}})),
            E_INVALIDARG);
  EXPECT_EQ(acl.GrantAccessRights(List({{Trustee::OfName("no such name"), ACTRL_ACCESS_ALLOWED, 1}})),
            CO_E_NOMATCHINGSIDFOUND);
  EXPECT_EQ(acl.RevokeAccessRights(std::nullopt, {}), E_INVALIDARG);
  EXPECT_EQ(acl.GetAllAccessRights(u"prop").status().code(), E_INVALIDARG);
  // Names: SDDL aliases and SID strings.
  EXPECT_EQ(acl.GrantAccessRights(List({{Trustee::OfName("AU"), ACTRL_ACCESS_ALLOWED, 1}})), S_OK);
  EXPECT_EQ(*acl.GetAllAccessRights(std::nullopt)->entries[0].trustee.sid,
            security::well_known::AuthenticatedUsers());
}

TEST(DcomAccessControl, R157_IsAccessAllowedOnlyDuringACallForItsClient) {
  DcomAccessControl acl;
  const Sid user = security::UnixUserSid(1000);
  ASSERT_EQ(acl.SetAccessRights(List({Allow(user)})), S_OK);
  EXPECT_EQ(acl.IsAccessAllowed(Trustee::OfSid(user), std::nullopt, 1).status().code(),
            RPC_E_NO_CONTEXT);
  rpc::CallSecurity caller;
  caller.authn_level = security::AuthnLevel::kPktIntegrity;
  caller.token = std::make_shared<const security::Token>(UnixToken(1000, {1000}));
  ServerCallScope scope(caller);
  auto r = acl.IsAccessAllowed(Trustee::OfSid(user), std::nullopt, 1);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(*r);
  EXPECT_EQ(acl.IsAccessAllowed(Trustee::OfSid(security::UnixUserSid(1001)), std::nullopt, 1)
                .status()
                .code(),
            CO_E_TRUSTEEDOESNTMATCHCLIENT);
  EXPECT_EQ(acl.IsAccessAllowed(Trustee::OfSid(user), std::nullopt, 2).status().code(),
            E_INVALIDARG);
  EXPECT_TRUE(*acl.IsAccessAllowed(Trustee::OfSid(user), std::nullopt, 0));
}

}  // namespace
}  // namespace comsec::com
