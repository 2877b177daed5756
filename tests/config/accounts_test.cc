// The account database's names: one rule (Windows's upper case,
// base/utf16.h) for every comparison, so "émile" and "ÉMILE" are one
// account and "admın" (dotless i) is not "admin".
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comsec/security/well_known_sids.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

namespace comsec::config {
namespace {

class Accounts : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-accounts-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    auto s = Store::Open(dir_ + "/store.db");
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    store_ = std::move(*s);
    db_ = std::make_unique<AccountDatabase>(store_.get());
    ASSERT_TRUE(db_->EnsureDomain("testdom").ok());
  }
  void TearDown() override {
    db_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<AccountDatabase> db_;
  NtHashBytes hash_{};
};

TEST_F(Accounts, NonAsciiNamesMatchInAnyCase) {
  ASSERT_TRUE(db_->AddUser("\xC3\xA9mile", hash_).ok());  // émile
  auto found = db_->FindUser("\xC3\x89MILE");              // ÉMILE
  ASSERT_TRUE(found.ok());
  ASSERT_TRUE(found->has_value());
  EXPECT_EQ((*found)->name, "\xC3\xA9mile");  // as created
  Status again = db_->AddUser("\xC3\x89mile", hash_);
  EXPECT_EQ(again.code(), ERROR_USER_EXISTS) << again.ToString();
  ASSERT_TRUE(db_->AddGroup("\xC3\xA9quipe").ok());  // équipe
  ASSERT_TRUE(db_->AddMember("\xC3\x89QUIPE", "\xC3\x89MILE").ok());
  // Adding the same member in another case changes nothing.
  ASSERT_TRUE(db_->AddMember("\xC3\xA9quipe", "\xC3\xA9MILE").ok());
  auto groups = db_->ListGroups();
  ASSERT_TRUE(groups.ok());
  ASSERT_EQ(groups->size(), 1u);
  EXPECT_EQ((*groups)[0].members, std::vector<std::string>{"\xC3\xA9mile"});
  auto with_groups = db_->FindUser("\xC3\xA9MILE");
  ASSERT_TRUE(with_groups.ok() && with_groups->has_value());
  ASSERT_EQ((*with_groups)->groups.size(), 1u);
  ASSERT_TRUE(db_->RemoveMember("\xC3\xA9QUIPE", "\xC3\x89mile").ok());
  ASSERT_TRUE(db_->DeleteUser("\xC3\x89MILE").ok());
  EXPECT_FALSE(db_->FindUser("\xC3\xA9mile")->has_value());
}

TEST_F(Accounts, DotlessIIsAnotherName) {
  ASSERT_TRUE(db_->AddUser("admin", hash_).ok());
  ASSERT_TRUE(db_->AddUser("adm\xC4\xB1n", hash_).ok());  // admın: a second account
  EXPECT_EQ((*db_->FindUser("ADMIN"))->name, "admin");
  EXPECT_EQ((*db_->FindUser("ADM\xC4\xB1N"))->name, "adm\xC4\xB1n");
  EXPECT_NE((*db_->FindUser("ADMIN"))->rid, (*db_->FindUser("ADM\xC4\xB1N"))->rid);
}

TEST_F(Accounts, NamesMustBeUtf8AndAreCountedInCharacters) {
  Status bad = db_->AddUser("ab\xFF", hash_);
  EXPECT_EQ(bad.code(), E_INVALIDARG);
  EXPECT_EQ(bad.message(), "account name: invalid UTF-8 at byte 2: byte that never appears in UTF-8");
  EXPECT_FALSE(db_->FindUser("ab\xFF")->has_value());
  // Twenty characters of two bytes each fit; twenty-one do not.
  std::string twenty;
  for (int i = 0; i < 20; ++i) twenty += "\xC3\xA9";
  EXPECT_TRUE(db_->AddUser(twenty, hash_).ok());
  Status long_name = db_->AddUser(twenty + "e", hash_);
  EXPECT_EQ(long_name.message(), "user names have 1 to 20 characters");
}

TEST_F(Accounts, DomainNameIsUpcasedWithTheSameRule) {
  EXPECT_EQ(db_->Domain()->name, "TESTDOM");
  char tmpl[] = "/tmp/comsec-accounts-XXXXXX";
  ASSERT_NE(mkdtemp(tmpl), nullptr);
  const std::string other_dir = tmpl;
  {
    auto other = Store::Open(other_dir + "/store.db");
    ASSERT_TRUE(other.ok());
    AccountDatabase db(other->get());
    auto d = db.EnsureDomain("\xC3\xA9quipe-\xC3\x9f");  // équipe-ß
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(d->name, "\xC3\x89QUIPE-\xC3\x9f");  // ÉQUIPE-ß: ß has no 1:1 upper case
  }
  std::filesystem::remove_all(other_dir);
}

// Issue 14: an account mapped to a Unix identity, stored under its key.
TEST_F(Accounts, UnixMappingByNumberRoundTripsAndResolvesWithoutLookups) {
  ASSERT_TRUE(db_->AddUser("bob", hash_).ok());
  EXPECT_FALSE((*db_->FindUser("bob"))->unix_mapping.has_value());
  const UnixMapping m{"", 65534, 65534, {100, 65534, 4242}};
  ASSERT_TRUE(db_->SetUnixMapping("BOB", m).ok());
  auto bob = *db_->FindUser("bob");
  ASSERT_TRUE(bob->unix_mapping.has_value());
  EXPECT_EQ(*bob->unix_mapping, m);
  auto logon = LogonOf(*bob);
  ASSERT_TRUE(logon.ok()) << logon.status().ToString();
  ASSERT_TRUE(logon->unix_identity.has_value());
  EXPECT_EQ(logon->unix_identity->uid, 65534u);
  // The primary gid first, duplicates dropped; 4242 need not exist.
  EXPECT_EQ(logon->unix_identity->gids, (std::vector<uint32_t>{65534, 100, 4242}));
  security::Token t = AccountLogonToken(*logon, security::LogonKind::kNetwork);
  ASSERT_NE(t.unix_identity(), nullptr);
  EXPECT_EQ(*t.unix_identity(), *logon->unix_identity);
  EXPECT_EQ(t.user(), bob->sid);
  // The mapping changes what the kernel sees, never the SIDs.
  EXPECT_FALSE(t.IsMember(security::UnixUserSid(65534)));
  // Removed: the account only identifies again.
  ASSERT_TRUE(db_->SetUnixMapping("bob", std::nullopt).ok());
  bob = *db_->FindUser("bob");
  EXPECT_FALSE(bob->unix_mapping.has_value());
  EXPECT_EQ(AccountLogonToken(*LogonOf(*bob), security::LogonKind::kNetwork).unix_identity(),
            nullptr);
}

TEST_F(Accounts, UnixMappingByNameFollowsTheSystemAndNeverRoot) {
  ASSERT_TRUE(db_->AddUser("carol", hash_).ok());
  auto nobody = security::LookupUnixUserByName("nobody");
  ASSERT_TRUE(nobody.ok());
  ASSERT_TRUE(db_->SetUnixMapping("carol", UnixMapping{"nobody", 0, 0, {}}).ok());
  auto logon = LogonOf(**db_->FindUser("carol"));
  ASSERT_TRUE(logon.ok());
  EXPECT_EQ(*logon->unix_identity, *nobody);
  // Root, by name or number, and unknown users are refused when set...
  EXPECT_EQ(db_->SetUnixMapping("carol", UnixMapping{"root", 0, 0, {}}).code(), E_INVALIDARG);
  EXPECT_EQ(db_->SetUnixMapping("carol", UnixMapping{"", 0, 100, {}}).code(), E_INVALIDARG);
  EXPECT_EQ(db_->SetUnixMapping("carol", UnixMapping{"no-such-user-here", 0, 0, {}}).code(),
            ERROR_NO_SUCH_USER);
  EXPECT_EQ(db_->SetUnixMapping("nobody-here", UnixMapping{"", 7, 7, {}}).code(),
            ERROR_NO_SUCH_USER);
  // ...and the one set before stays.
  EXPECT_EQ((*db_->FindUser("carol"))->unix_mapping->user_name, "nobody");
  // A stored root (written around SetUnixMapping) or vanished user fails
  // the logon rather than letting the caller in as someone else.
  auto tx = *store_->BeginWrite();
  const KeyPath key = KeyPath::Parse(kAccountDomainKey)->Child("Users").Child("carol");
  ASSERT_TRUE(tx->SetValue(key, RegValue::String("UnixUser", "root")).ok());
  ASSERT_TRUE(tx->Commit().ok());
  auto refused = LogonOf(**db_->FindUser("carol"));
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), E_ACCESSDENIED);
  EXPECT_NE(std::string(refused.status().message()).find("root is never"), std::string::npos);
  tx = *store_->BeginWrite();
  ASSERT_TRUE(tx->SetValue(key, RegValue::String("UnixUser", "no-such-user-here")).ok());
  ASSERT_TRUE(tx->Commit().ok());
  EXPECT_EQ(LogonOf(**db_->FindUser("carol")).status().code(), ERROR_NO_SUCH_USER);
}

TEST_F(Accounts, MalformedUnixMappingsAreRefusedSayingWhy) {
  ASSERT_TRUE(db_->AddUser("dave", hash_).ok());
  const KeyPath key = KeyPath::Parse(kAccountDomainKey)->Child("Users").Child("dave");
  auto set = [&](std::vector<RegValue> values) {
    auto tx = *store_->BeginWrite();
    for (const char* v : {"UnixUser", "UnixUid", "UnixGid", "UnixGroups"}) {
      EXPECT_TRUE(tx->DeleteValue(key, v).ok());
    }
    for (const RegValue& v : values) EXPECT_TRUE(tx->SetValue(key, v).ok());
    EXPECT_TRUE(tx->Commit().ok());
    return db_->FindUser("dave");
  };
  EXPECT_EQ(set({RegValue::Dword("UnixUid", 5)}).status().code(), E_INVALIDARG);  // no gid
  EXPECT_EQ(set({RegValue::String("UnixUser", "nobody"), RegValue::Dword("UnixUid", 5)})
                .status()
                .code(),
            E_INVALIDARG);
  EXPECT_EQ(set({RegValue::String("UnixUid", "5"), RegValue::Dword("UnixGid", 5)}).status().code(),
            E_INVALIDARG);
  auto bad_groups = set({RegValue::Dword("UnixUid", 5), RegValue::Dword("UnixGid", 5),
                         RegValue::MultiString("UnixGroups", {"7", "x8"})});
  EXPECT_EQ(bad_groups.status().code(), E_INVALIDARG);
  EXPECT_NE(std::string(bad_groups.status().message()).find("'x8'"), std::string::npos);
  auto good = set({RegValue::Dword("UnixUid", 5), RegValue::Dword("UnixGid", 6),
                   RegValue::MultiString("UnixGroups", {"7"})});
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*(*good)->unix_mapping, (UnixMapping{"", 5, 6, {7}}));
}

TEST_F(Accounts, FindGroupIgnoresCaseAndKnowsItsSid) {
  ASSERT_TRUE(db_->AddGroup("Operators").ok());
  auto g = db_->FindGroup("OPERATORS");
  ASSERT_TRUE(g.ok());
  ASSERT_TRUE(g->has_value());
  EXPECT_EQ((*g)->name, "Operators");
  EXPECT_TRUE((*g)->sid.IsInDomain(db_->Domain()->sid));
  EXPECT_FALSE(db_->FindGroup("nobody")->has_value());
  EXPECT_FALSE(db_->FindGroup("bad\\name")->has_value());
}

}  // namespace
}  // namespace comsec::config
