// Tokens and their construction from Unix identities (R188).
#include "comsec/base/win32_error.h"
#include "comsec/security/token.h"

#include <gtest/gtest.h>

#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {
namespace {

bool Has(const Token& t, const Sid& sid) { return t.IsMember(sid); }

TEST(Token, AuthenticatedLocalLogon) {
  Token t = Token::ForAuthenticatedUser(UnixUserSid(1000), {}, LogonKind::kLocal);
  EXPECT_TRUE(Has(t, UnixUserSid(1000)));
  EXPECT_TRUE(Has(t, well_known::Everyone()));
  EXPECT_TRUE(Has(t, well_known::AuthenticatedUsers()));
  EXPECT_TRUE(Has(t, well_known::Interactive()));
  EXPECT_TRUE(Has(t, well_known::Local()));
  EXPECT_FALSE(Has(t, well_known::Network()));
  EXPECT_FALSE(t.IsAnonymous());
}

TEST(Token, AuthenticatedNetworkLogon) {
  Token t = Token::ForAuthenticatedUser(UnixUserSid(1000), {}, LogonKind::kNetwork);
  EXPECT_TRUE(Has(t, well_known::Network()));
  EXPECT_FALSE(Has(t, well_known::Interactive()));
}

TEST(Token, AnonymousHasOnlyAnonymousLogon) {
  Token t = Token::Anonymous(LogonKind::kNetwork, false);
  EXPECT_TRUE(t.IsAnonymous());
  EXPECT_TRUE(Has(t, well_known::Anonymous()));
  EXPECT_FALSE(Has(t, well_known::Everyone()));
  EXPECT_FALSE(Has(t, well_known::AuthenticatedUsers()));
  EXPECT_TRUE(t.groups().empty());
  Token e = Token::Anonymous(LogonKind::kNetwork, true);
  EXPECT_TRUE(Has(e, well_known::Everyone()));
}

TEST(Token, AddGroupMergesDuplicates) {
  Token t(UnixUserSid(1), LogonKind::kLocal);
  t.AddGroup(UnixGroupSid(5), SE_GROUP_USE_FOR_DENY_ONLY);
  EXPECT_EQ(t.Match(UnixGroupSid(5)), SidMatch::kDenyOnly);
  t.AddGroup(UnixGroupSid(5));
  EXPECT_EQ(t.groups().size(), 1u);
  EXPECT_EQ(t.Match(UnixGroupSid(5)), SidMatch::kEnabled);
  EXPECT_EQ(t.Match(UnixGroupSid(6)), SidMatch::kNone);
}

UnixIdentity Identity(uint32_t uid, std::vector<uint32_t> gids,
                      std::vector<std::string> names) {
  return UnixIdentity{uid, "user", std::move(gids), std::move(names)};
}

TEST(UnixIdentity, GroupsBecomeUnixGroupSids) {
  Token t = TokenForUnixIdentity(Identity(1000, {1000, 27}, {"user", "video"}), {});
  EXPECT_EQ(t.user(), UnixUserSid(1000));
  EXPECT_TRUE(Has(t, UnixGroupSid(1000)));
  EXPECT_TRUE(Has(t, UnixGroupSid(27)));
  EXPECT_FALSE(Has(t, well_known::BuiltinAdministrators()));
  EXPECT_FALSE(Has(t, well_known::LocalSystem()));
}

TEST(UnixIdentity, RootIsSystemAndAdministrators) {
  Token t = TokenForUnixIdentity(Identity(0, {0}, {"root"}), {});
  EXPECT_TRUE(Has(t, well_known::LocalSystem()));
  EXPECT_TRUE(Has(t, well_known::BuiltinAdministrators()));
}

TEST(UnixIdentity, AdminGroupsAreConfigurable) {
  UnixIdentity id = Identity(1000, {1000, 27}, {"user", "sudo"});
  EXPECT_TRUE(Has(TokenForUnixIdentity(id, {}), well_known::BuiltinAdministrators()));
  UnixTokenOptions opts;
  opts.admin_groups = {"wheel"};
  EXPECT_FALSE(Has(TokenForUnixIdentity(id, opts), well_known::BuiltinAdministrators()));
  id.group_names[1] = "wheel";
  EXPECT_TRUE(Has(TokenForUnixIdentity(id, opts), well_known::BuiltinAdministrators()));
  opts.logon = LogonKind::kNetwork;
  EXPECT_TRUE(Has(TokenForUnixIdentity(id, opts), well_known::Network()));
}

TEST(UnixIdentity, LooksUpTheSystemDatabases) {
  auto root = LookupUnixUser(0);
  ASSERT_TRUE(root.ok()) << root.status().ToString();
  EXPECT_EQ(root->user_name, "root");
  ASSERT_FALSE(root->gids.empty());
  EXPECT_EQ(root->gids[0], 0u);
  EXPECT_EQ(LookupUnixUserByName("root")->uid, 0u);
  EXPECT_EQ(*LookupUnixGroupByName("root"), 0u);
  auto missing = LookupUnixUser(3999999);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), ERROR_NO_SUCH_USER);
  EXPECT_EQ(LookupUnixUserByName("no-such-user-comsec").status().code(),
            ERROR_NO_SUCH_USER);
  EXPECT_EQ(LookupUnixGroupByName("no-such-group-comsec").status().code(),
            ERROR_NO_SUCH_GROUP);
}

// Issue 14: the Unix identity a server's thread takes on for a caller.
TEST(Token, ImpersonationIdentityIsTheMappedOneElseTheUnixUser) {
  // A store account's token carries its mapping; its SID says nothing.
  Token mapped = Token::ForAuthenticatedUser(Sid(5, {21, 1, 2, 3, 1000}), {}, LogonKind::kNetwork);
  EXPECT_EQ(ImpersonationIdentityOf(mapped), std::nullopt);  // unmapped: identify only
  const UnixIdentity id{65534, "", {65534, 100}, {"", ""}};
  mapped.SetUnixIdentity(id);
  EXPECT_EQ(ImpersonationIdentityOf(mapped), id);
  const Token copy = mapped;  // copies share it
  ASSERT_NE(copy.unix_identity(), nullptr);
  EXPECT_EQ(*copy.unix_identity(), id);
  EXPECT_NE(copy.Describe().find("; acts as uid 65534 gids 65534,100)"), std::string::npos)
      << copy.Describe();
  // A Unix user's token carries the identity it was made from (no second
  // look-up when impersonated); Describe does not repeat what its SID says.
  auto nobody = LookupUnixUserByName("nobody");
  ASSERT_TRUE(nobody.ok());
  Token unix_user = TokenForUnixIdentity(*nobody, UnixTokenOptions{});
  ASSERT_NE(unix_user.unix_identity(), nullptr);
  EXPECT_EQ(*unix_user.unix_identity(), *nobody);
  EXPECT_EQ(ImpersonationIdentityOf(unix_user), *nobody);
  EXPECT_EQ(unix_user.Describe().find("acts as"), std::string::npos);
  // A bare S-1-22-1-uid token (no identity recorded): looked up by its uid.
  Token bare = Token::ForAuthenticatedUser(UnixUserSid(nobody->uid), {}, LogonKind::kLocal);
  EXPECT_EQ(ImpersonationIdentityOf(bare), *nobody);
  // Anonymous: nothing.
  EXPECT_EQ(ImpersonationIdentityOf(Token::Anonymous(LogonKind::kNetwork, false)), std::nullopt);
}

}  // namespace
}  // namespace comsec::security
