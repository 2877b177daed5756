// The registry store: tree, names, types, transactions, crash safety
// (SIGKILLed writers) and concurrency (reader processes beside a writer).
#include "comsec/base/win32_error.h"
#include "comsec/config/store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace comsec::config {
namespace {

class TempStore : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/comsec-store-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    dir_ = tmpl;
    path_ = dir_ + "/store.db";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::unique_ptr<Store> Open() {
    auto s = Store::Open(path_);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(*s) : nullptr;
  }

  std::string dir_;
  std::string path_;
};

KeyPath P(const char* text) { return *KeyPath::Parse(text); }

TEST(KeyPath, ParsesRootsAndHkcrView) {
  EXPECT_EQ(P("HKEY_LOCAL_MACHINE\\SOFTWARE").ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE");
  EXPECT_EQ(P("hklm\\a\\b\\").ToString(), "HKEY_LOCAL_MACHINE\\a\\b");
  // HKCR is HKLM\SOFTWARE\Classes (R159).
  EXPECT_EQ(P("HKEY_CLASSES_ROOT\\AppID").ToString(),
            "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes\\AppID");
  EXPECT_EQ(P("HKCR").ToString(), "HKEY_LOCAL_MACHINE\\SOFTWARE\\Classes");
}

// An empty registry in memory (a process with no store): no file is made,
// whoever opens it, and it reads and writes like any store.
TEST(Store, InMemoryMakesNoFile) {
  const auto cwd = std::filesystem::current_path();
  auto store = Store::Open(":memory:");
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_FALSE(std::filesystem::exists(cwd / ":memory:"));
  auto key = KeyPath::Parse("HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\Ole");
  ASSERT_TRUE(key.ok());
  ASSERT_TRUE((*store)->SetValue(*key, RegValue::Dword("EnableDCOM", 1)).ok());
  auto v = (*store)->GetValue(*key, "EnableDCOM");
  ASSERT_TRUE(v.ok() && v->has_value());
}

TEST(KeyPath, RejectsBadPaths) {
  EXPECT_FALSE(KeyPath::Parse("").ok());
  EXPECT_FALSE(KeyPath::Parse("HKEY_CURRENT_USER\\x").ok());
  EXPECT_FALSE(KeyPath::Parse("HKLM\\a\\\\b").ok());
  EXPECT_FALSE(KeyPath::Parse("HKLM\\" + std::string(256, 'x')).ok());
}

TEST_F(TempStore, SetAndGetEveryType) {
  auto store = Open();
  ASSERT_TRUE(store);
  KeyPath key = P("HKLM\\SOFTWARE\\Test");
  std::vector<RegValue> values = {
      RegValue::String("sz", "hello"),
      RegValue::String("expand", "%SystemRoot%", RegType::kExpandSz),
      RegValue::MultiString("multi", {"a", "b"}),
      RegValue::Binary("bin", {1, 2, 3}),
      RegValue::Dword("dw", 0xdeadbeef),
      RegValue::Qword("qw", 0x0123456789abcdefull),
      RegValue::String("", "the default value"),
  };
  for (const RegValue& v : values) ASSERT_TRUE(store->SetValue(key, v).ok());
  for (const RegValue& v : values) {
    auto got = store->GetValue(key, v.name);
    ASSERT_TRUE(got.ok());
    ASSERT_TRUE(got->has_value()) << v.name;
    EXPECT_EQ(**got, v);
  }
}

TEST_F(TempStore, NamesAreCaseInsensitiveAndCasePreserving) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(
      store->SetValue(P("HKLM\\Software\\MyKey"), RegValue::Dword("Value", 1)).ok());
  auto got = store->GetValue(P("HKLM\\SOFTWARE\\mykey"), "VALUE");
  ASSERT_TRUE(got.ok() && got->has_value());
  EXPECT_EQ((*got)->name, "Value");
  // Setting with another case replaces the value and takes the new case.
  ASSERT_TRUE(
      store->SetValue(P("HKLM\\SOFTWARE\\MYKEY"), RegValue::Dword("vALUE", 2)).ok());
  auto tx = store->BeginRead();
  ASSERT_TRUE(tx.ok());
  auto contents = (*tx)->ReadKey(P("HKLM\\software"));
  ASSERT_TRUE(contents.ok());
  ASSERT_EQ(contents->subkeys.size(), 1u);
  EXPECT_EQ(contents->subkeys[0], "MyKey");  // the key keeps its first case
  auto key = (*tx)->ReadKey(P("HKLM\\software\\mykey"));
  ASSERT_EQ(key->values.size(), 1u);
  EXPECT_EQ(key->values[0].name, "vALUE");
  EXPECT_EQ(*key->values[0].AsDword(), 2u);
}

TEST_F(TempStore, NonAsciiNamesFoldWithWindowsUpperCase) {
  auto store = Open();
  ASSERT_TRUE(store);
  // "Émile" and "émile" are one key; "Üni" and "üNI" one value.
  ASSERT_TRUE(store->SetValue(P("HKLM\\Software\\\xC3\x89mile"),
                              RegValue::Dword("\xC3\x9cni", 1))
                  .ok());
  auto got = store->GetValue(P("HKLM\\SOFTWARE\\\xC3\xA9MILE"), "\xC3\xBCNI");
  ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
  EXPECT_EQ((*got)->name, "\xC3\x9cni");
  // The dotless i is a letter of its own, as on Windows.
  ASSERT_TRUE(store->SetValue(P("HKLM\\Software\\adm\xC4\xB1n"), RegValue::Dword("v", 2)).ok());
  ASSERT_TRUE(store->SetValue(P("HKLM\\Software\\admin"), RegValue::Dword("v", 3)).ok());
  EXPECT_EQ(*(*store->GetValue(P("HKLM\\SOFTWARE\\ADM\xC4\xB1N"), "v"))->AsDword(), 2u);
  EXPECT_EQ(*(*store->GetValue(P("HKLM\\SOFTWARE\\ADMIN"), "v"))->AsDword(), 3u);
}

// Schema 1 folded ASCII letters only. Makes the store at path_ look like
// one written then: version 1, and `name`'s folded form the old one.
void MakeSchema1(const std::string& path, const char* sql_refold) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  char* err = nullptr;
  ASSERT_EQ(sqlite3_exec(db, sql_refold, nullptr, nullptr, &err), SQLITE_OK) << err;
  ASSERT_EQ(sqlite3_exec(db, "UPDATE meta SET value=1 WHERE name='schema_version'", nullptr,
                         nullptr, &err),
            SQLITE_OK)
      << err;
  sqlite3_close(db);
}

int StoredSchemaVersion(const std::string& path) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name='schema_version'", -1, &s, nullptr);
  const int v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int(s, 0) : -1;
  sqlite3_finalize(s);
  sqlite3_close(db);
  return v;
}

TEST_F(TempStore, Schema1StoreIsUpgradedWhenOpenedForWriting) {
  {
    auto store = Open();
    ASSERT_TRUE(store->SetValue(P("HKLM\\\xC3\xA9mile"), RegValue::Dword("\xC3\xA9t\xC3\xA9", 1)).ok());
    ASSERT_TRUE(store->SetValue(P("HKLM\\Plain"), RegValue::Dword("v", 2)).ok());
  }
  EXPECT_EQ(StoredSchemaVersion(path_), 2);
  // As schema 1 folded them: "émile" and "été" kept their non-ASCII letters.
  MakeSchema1(path_,
              "UPDATE keys SET folded='\xC3\xA9mile' WHERE name='\xC3\xA9mile';"
              "UPDATE reg_values SET folded='\xC3\xA9t\xC3\xA9' WHERE name='\xC3\xA9t\xC3\xA9';");
  StoreOptions read_only;
  read_only.read_only = true;
  auto refused = Store::Open(path_, read_only);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ERROR_REGISTRY_CORRUPT);
  EXPECT_NE(refused.status().message().find("open it for writing once"), std::string_view::npos)
      << refused.status().ToString();
  {
    auto store = Open();  // upgrades
    ASSERT_TRUE(store);
    auto got = store->GetValue(P("HKLM\\\xC3\x89MILE"), "\xC3\x89T\xC3\x89");
    ASSERT_TRUE(got.ok() && got->has_value()) << got.status().ToString();
    EXPECT_EQ(*(*got)->AsDword(), 1u);
    EXPECT_EQ(*(*store->GetValue(P("HKLM\\plain"), "V"))->AsDword(), 2u);
  }
  EXPECT_EQ(StoredSchemaVersion(path_), 2);
  EXPECT_TRUE(Store::Open(path_, read_only).ok());
}

TEST_F(TempStore, Schema1StoreWithAsciiNamesOnlyOpensReadOnly) {
  {
    auto store = Open();
    ASSERT_TRUE(store->SetValue(P("HKLM\\Plain"), RegValue::Dword("v", 2)).ok());
  }
  MakeSchema1(path_, "SELECT 1;");
  StoreOptions read_only;
  read_only.read_only = true;
  auto store = Store::Open(path_, read_only);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(*(*(*store)->GetValue(P("HKLM\\PLAIN"), "V"))->AsDword(), 2u);
}

TEST_F(TempStore, Schema1SiblingsThatNowCollideAreNamed) {
  {
    auto store = Open();
    ASSERT_TRUE(store->SetValue(P("HKLM\\\xC3\xA9mile"), RegValue::Dword("v", 1)).ok());
  }
  // Schema 1 let "émile" and "Émile" be two keys (folded "émile", "Émile").
  MakeSchema1(path_,
              "UPDATE keys SET folded='\xC3\xA9mile' WHERE name='\xC3\xA9mile';"
              "INSERT INTO keys(parent, name, folded) VALUES(1, '\xC3\x89mile', '\xC3\x89mile');");
  auto refused = Store::Open(path_);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ERROR_REGISTRY_CORRUPT);
  EXPECT_NE(refused.status().message().find("named '\xC3\xA9mile' has a sibling"),
            std::string_view::npos)
      << refused.status().ToString();
  EXPECT_EQ(StoredSchemaVersion(path_), 1);  // nothing changed
}

TEST_F(TempStore, HkcrIsAViewOfSoftwareClasses) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->SetValue(P("HKCR\\AppID\\{X}"), RegValue::String("", "x")).ok());
  auto got = store->GetValue(P("HKLM\\SOFTWARE\\Classes\\AppID\\{x}"), "");
  ASSERT_TRUE(got.ok() && got->has_value());
}

TEST_F(TempStore, DeleteKeyRemovesSubtree) {
  auto store = Open();
  ASSERT_TRUE(store);
  ASSERT_TRUE(store->SetValue(P("HKLM\\A\\B\\C"), RegValue::Dword("x", 1)).ok());
  auto tx = store->BeginWrite();
  ASSERT_TRUE(tx.ok());
  ASSERT_TRUE((*tx)->DeleteKey(P("HKLM\\a")).ok());
  EXPECT_FALSE(*(*tx)->reader().KeyExists(P("HKLM\\A\\B\\C")));
  ASSERT_TRUE((*tx)->Commit().ok());
  EXPECT_FALSE((*store->GetValue(P("HKLM\\A\\B\\C"), "x")).has_value());
  // The root cannot go.
  auto tx2 = store->BeginWrite();
  EXPECT_EQ((*tx2)->DeleteKey(P("HKLM")).code(), E_ACCESSDENIED);
}

TEST_F(TempStore, UncommittedWriteIsRolledBack) {
  auto store = Open();
  ASSERT_TRUE(store);
  {
    auto tx = store->BeginWrite();
    ASSERT_TRUE(tx.ok());
    ASSERT_TRUE((*tx)->SetValue(P("HKLM\\T"), RegValue::Dword("a", 1)).ok());
    ASSERT_TRUE((*tx)->SetValue(P("HKLM\\T"), RegValue::Dword("b", 2)).ok());
    // No commit.
  }
  EXPECT_FALSE((*store->GetValue(P("HKLM\\T"), "a")).has_value());
  EXPECT_FALSE((*store->GetValue(P("HKLM\\T"), "b")).has_value());
}

TEST_F(TempStore, ApplyIsAllOrNothing) {
  auto store = Open();
  ASSERT_TRUE(store);
  std::vector<RegOperation> ops(3);
  ops[0].kind = RegOperation::Kind::kSetValue;
  ops[0].key = "HKEY_LOCAL_MACHINE\\X";
  ops[0].value = RegValue::Dword("a", 1);
  ops[0].line = 3;
  ops[1] = ops[0];
  ops[1].value = RegValue::Dword("b", 2);
  ops[1].line = 4;
  ops[2] = ops[0];
  ops[2].key = "HKEY_USERS\\bad";  // refused: unsupported root
  ops[2].line = 7;
  Status s = store->ImportOperations(ops);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("line 7"), std::string::npos) << s.message();
  EXPECT_FALSE((*store->GetValue(P("HKLM\\X"), "a")).has_value());
}

TEST_F(TempStore, ReopensAndRefusesForeignFiles) {
  {
    auto store = Open();
    ASSERT_TRUE(store->SetValue(P("HKLM\\K"), RegValue::Dword("v", 9)).ok());
  }
  auto again = Open();
  EXPECT_EQ(*(*again->GetValue(P("HKLM\\K"), "v"))->AsDword(), 9u);
  std::string other = dir_ + "/other.db";
  FILE* f = fopen(other.c_str(), "w");
  fputs("this is not a database, just text that is long enough to matter", f);
  fclose(f);
  EXPECT_FALSE(Store::Open(other).ok());
  StoreOptions no_create;
  no_create.create_if_missing = false;
  EXPECT_FALSE(Store::Open(dir_ + "/missing.db", no_create).ok());
}

TEST_F(TempStore, GenerationChangesOnEveryCommit) {
  auto a = Open();
  auto b = Open();
  auto g0 = *a->Generation();
  ASSERT_TRUE(b->SetValue(P("HKLM\\G"), RegValue::Dword("v", 1)).ok());
  auto g1 = *a->Generation();
  EXPECT_NE(g0, g1);
  ASSERT_TRUE(a->SetValue(P("HKLM\\G"), RegValue::Dword("v", 2)).ok());
  EXPECT_NE(*a->Generation(), g1);
}

// ---- processes -----------------------------------------------------------

std::string Stress() {
  return std::string(COMSEC_BINARY_DIR) + "/tests/config/store_stress";
}

pid_t Spawn(const std::vector<std::string>& args) {
  pid_t pid = fork();
  if (pid == 0) {
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

int Wait(pid_t pid) {
  int status = 0;
  waitpid(pid, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

// A writer killed at a random moment of a large import leaves the store
// holding the whole import or none of it; the file always opens.
TEST_F(TempStore, SigkilledWriterLeavesWholeImportOrNone) {
  constexpr int kValues = 2000;
  std::mt19937 rng(12345);
  int completed_rounds = 0;
  for (int i = 0; i < 25; ++i) {
    pid_t writer = Spawn({Stress(), "write", path_, std::to_string(kValues), "1000"});
    std::this_thread::sleep_for(std::chrono::milliseconds(20 + rng() % 180));
    kill(writer, SIGKILL);
    int rc = Wait(writer);
    if (rc == 0) ++completed_rounds;
    pid_t check = Spawn({Stress(), "check", path_, std::to_string(kValues)});
    ASSERT_EQ(Wait(check), 0) << "iteration " << i;
  }
  // The kills landed mid-import rather than after it finished.
  EXPECT_LT(completed_rounds, 25);
}

// Several reader processes and one writer: no error, no torn read.
TEST_F(TempStore, ReadersNeverSeeATornWrite) {
  constexpr int kValues = 300;
  { auto store = Open(); }
  std::vector<pid_t> readers;
  for (int i = 0; i < 4; ++i) {
    readers.push_back(
        Spawn({Stress(), "read", path_, std::to_string(kValues), "2500"}));
  }
  pid_t writer = Spawn({Stress(), "write", path_, std::to_string(kValues), "60"});
  EXPECT_EQ(Wait(writer), 0);
  for (pid_t r : readers) EXPECT_EQ(Wait(r), 0);
}

}  // namespace
}  // namespace comsec::config
