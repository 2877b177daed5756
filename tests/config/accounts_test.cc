// The account database's names: one rule (Windows's upper case,
// base/utf16.h) for every comparison, so "émile" and "ÉMILE" are one
// account and "admın" (dotless i) is not "admin".
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"

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

}  // namespace
}  // namespace comsec::config
