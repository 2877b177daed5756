// Issue 9 item 2: the account database lives in its own 0600 file; a store
// made before the split has its accounts moved there and erased from the
// policy store's files.
#include "comsec/base/win32_error.h"
#include "comsec/config/secrets.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "comsec/config/accounts.h"

namespace comsec::config {
namespace {

class SecretsFile : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("comsec-secrets-" + std::to_string(getpid()) + "-" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "store.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  static unsigned Mode(const std::string& p) {
    struct stat st {};
    EXPECT_EQ(stat(p.c_str(), &st), 0) << p;
    return st.st_mode & 0777;
  }
  // True when any of the store's files holds `needle`.
  static bool FilesContain(const std::string& p, const NtHashBytes& needle) {
    for (const char* suffix : {"", "-wal", "-shm"}) {
      std::ifstream in(p + suffix, std::ios::binary);
      std::string data((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      if (data.find(std::string(needle.begin(), needle.end())) != std::string::npos) return true;
    }
    return false;
  }

  std::filesystem::path dir_;
  std::string path_;
};

TEST(SecretsPath, BesideTheStore) {
  EXPECT_EQ(SecretsPathFor("/var/lib/comsec/store.db"), "/var/lib/comsec/store.secrets.db");
  EXPECT_EQ(SecretsPathFor("/tmp/policy"), "/tmp/policy.secrets.db");
  EXPECT_EQ(SecretsPathFor(".db"), ".db.secrets.db");
}

TEST_F(SecretsFile, CreatedPrivateWhateverTheUmaskAndThePolicyStorePublic) {
  const mode_t old = umask(0);  // the most permissive environment
  auto policy = Store::Open(path_);
  auto secrets = OpenSecrets(path_);
  umask(old);
  ASSERT_TRUE(policy.ok() && secrets.ok());
  AccountDatabase db(secrets->get());
  ASSERT_TRUE(db.EnsureDomain("host").ok());
  EXPECT_EQ(Mode(path_), 0644u);
  const std::string s = SecretsPathFor(path_);
  EXPECT_EQ(Mode(s), 0600u);
  for (const char* suffix : {"-wal", "-shm"}) {
    if (std::filesystem::exists(s + suffix)) {
      EXPECT_EQ(Mode(s + suffix), 0600u) << suffix;
    }
  }
}

TEST_F(SecretsFile, AnExistingStoresAccountsMoveAndAreErasedFromItsFiles) {
  NtHashBytes hash;
  for (size_t i = 0; i < hash.size(); ++i) hash[i] = static_cast<uint8_t>(0xc0 + i);
  {
    // The layout before the split: HKLM\SAM inside the policy store.
    auto old_store = std::move(*Store::Open(path_));
    AccountDatabase db(old_store.get());
    ASSERT_TRUE(db.EnsureDomain("legacy").ok());
    ASSERT_TRUE(db.AddUser("carol", hash).ok());
    ASSERT_TRUE(db.AddGroup("ops").ok());
    ASSERT_TRUE(db.AddMember("ops", "carol").ok());
  }
  ASSERT_TRUE(FilesContain(path_, hash));  // the hole: readable by everyone

  auto secrets = OpenSecrets(path_);
  ASSERT_TRUE(secrets.ok()) << secrets.status().ToString();
  AccountDatabase moved(secrets->get());
  auto carol = moved.FindUser("carol");
  ASSERT_TRUE(carol.ok() && carol->has_value());
  EXPECT_EQ((*carol)->nt_hash, hash);
  ASSERT_EQ((*carol)->groups.size(), 1u);
  EXPECT_EQ(moved.Domain()->name, "LEGACY");

  auto policy = std::move(*Store::Open(path_));
  auto read = std::move(*policy->BeginRead());
  EXPECT_FALSE(*read->KeyExists(*KeyPath::Parse(kSamKey)));
  read.reset();
  policy.reset();
  EXPECT_FALSE(FilesContain(path_, hash)) << "a copy of the hash is left in the policy store";
  // Opening again finds nothing more to move.
  EXPECT_TRUE(OpenSecrets(path_).ok());
}

TEST_F(SecretsFile, LooseModeIsTightenedByItsOwner) {
  ASSERT_TRUE(OpenSecrets(path_).ok());
  const std::string s = SecretsPathFor(path_);
  ASSERT_EQ(chmod(s.c_str(), 0644), 0);
  ASSERT_TRUE(OpenSecrets(path_).ok());
  EXPECT_EQ(Mode(s), 0600u);
}

TEST_F(SecretsFile, MissingWithoutCreateSaysHowToMakeOne) {
  SecretsOptions o;
  o.create_if_missing = false;
  auto r = OpenSecrets(path_, o);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), ERROR_NOT_FOUND);
  EXPECT_NE(std::string(r.status().message()).find("comcfg user add"), std::string::npos);
}

}  // namespace
}  // namespace comsec::config
