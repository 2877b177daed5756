#include "comsec/config/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "comsec/base/win32_error.h"

namespace comsec::config {
namespace {

// Another writer holds the store.
constexpr HResult kBusy = ERROR_BUSY;
constexpr HResult kCorrupt = ERROR_REGISTRY_CORRUPT;
constexpr HResult kIoFailed = ERROR_REGISTRY_IO_FAILED;

// 2: names fold with Windows's upper case (FoldCase); 1 folded ASCII only.
// Opening a schema 1 store for writing upgrades it (UpgradeFolding).
constexpr int kSchemaVersion = 2;

constexpr char kSchema[] = R"sql(
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS keys(
  id INTEGER PRIMARY KEY,
  parent INTEGER REFERENCES keys(id) ON DELETE CASCADE,
  name TEXT NOT NULL,
  folded TEXT NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS keys_by_parent ON keys(parent, folded);
CREATE TABLE IF NOT EXISTS reg_values(
  key INTEGER NOT NULL REFERENCES keys(id) ON DELETE CASCADE,
  folded TEXT NOT NULL,
  name TEXT NOT NULL,
  type INTEGER NOT NULL,
  data BLOB NOT NULL,
  PRIMARY KEY(key, folded)) WITHOUT ROWID;
INSERT OR IGNORE INTO keys(id, parent, name, folded)
  VALUES(1, NULL, 'HKEY_LOCAL_MACHINE', 'hkey_local_machine');
INSERT OR IGNORE INTO meta(name, value) VALUES('schema_version', 2);
)sql";

constexpr int64_t kRootId = 1;

// A prepared statement borrowed from the store's cache; reset on scope exit.
class Stmt {
 public:
  Stmt(sqlite3_stmt* s) : s_(s) {}  // NOLINT
  ~Stmt() {
    if (s_) {
      sqlite3_reset(s_);
      sqlite3_clear_bindings(s_);
    }
  }
  sqlite3_stmt* get() const { return s_; }
  void Text(int i, std::string_view t) {
    sqlite3_bind_text(s_, i, t.data(), static_cast<int>(t.size()),
                      SQLITE_TRANSIENT);
  }
  void Int(int i, int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Blob(int i, const std::vector<uint8_t>& b) {
    sqlite3_bind_blob(s_, i, b.empty() ? "" : static_cast<const void*>(b.data()),
                      static_cast<int>(b.size()), SQLITE_TRANSIENT);
  }
  int Step() { return sqlite3_step(s_); }

 private:
  sqlite3_stmt* s_;
};

std::string ColumnText(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? std::string(reinterpret_cast<const char*>(t),
                         static_cast<size_t>(sqlite3_column_bytes(s, i)))
           : std::string();
}

RegValue ColumnValue(sqlite3_stmt* s, int name_col) {
  RegValue v;
  v.name = ColumnText(s, name_col);
  v.type = static_cast<RegType>(sqlite3_column_int64(s, name_col + 1));
  const auto* data =
      static_cast<const uint8_t*>(sqlite3_column_blob(s, name_col + 2));
  int n = sqlite3_column_bytes(s, name_col + 2);
  if (data && n > 0) v.data.assign(data, data + n);
  return v;
}

}  // namespace

namespace {

std::string OwnerOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) return "its owner";
  std::string name = "uid " + std::to_string(st.st_uid);
  if (const passwd* pw = getpwuid(st.st_uid)) name = std::string(pw->pw_name) + ", " + name;
  return "its owner (" + name + ")";
}

// Creates the file with exactly `mode`, whatever the umask, so that who may
// read it is decided here and not by the environment. An existing file is
// left alone.
Status CreateWithMode(const std::string& path, mode_t mode) {
  int fd = open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd < 0) {
    if (errno == EEXIST) return Status();
    return Status(kIoFailed, "cannot create the configuration store " + path + ": " +
                                 std::strerror(errno));
  }
  const int rc = fchmod(fd, mode);
  close(fd);
  if (rc != 0) {
    return Status(kIoFailed, "cannot set the mode of " + path + ": " + std::strerror(errno));
  }
  return Status();
}

}  // namespace

// ==== Schema 1 -> 2: Windows's case folding ================================
// Schema 1 folded ASCII letters only, so a name with other letters ("émile")
// has a folded form that schema 2's FoldCase no longer produces; such rows
// are re-folded. ASCII names fold as before and are left alone.

namespace {

struct Refold {
  bool is_key;         // a row of keys (by id) or of reg_values (by key, folded)
  int64_t id;          // keys.id or reg_values.key
  std::string folded;  // the schema 1 form
  std::string name;
};

int SchemaVersion(sqlite3* db) {
  sqlite3_stmt* s = nullptr;
  int version = 0;
  if (sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE name='schema_version'", -1, &s,
                         nullptr) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    version = sqlite3_column_int(s, 0);
  }
  sqlite3_finalize(s);
  return version;
}

Status SchemaError(sqlite3* db, const std::string& path, const std::string& what) {
  return Status(kCorrupt, "configuration store " + path + ": " + what + ": " + sqlite3_errmsg(db));
}

Result<std::vector<Refold>> RowsToRefold(sqlite3* db, const std::string& path) {
  std::vector<Refold> out;
  for (bool is_key : {true, false}) {
    const char* sql = is_key ? "SELECT id, folded, name FROM keys"
                             : "SELECT key, folded, name FROM reg_values";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
      return SchemaError(db, path, "reading names to re-fold");
    }
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
      Refold r{is_key, sqlite3_column_int64(s, 0), ColumnText(s, 1), ColumnText(s, 2)};
      if (FoldCase(r.name) != r.folded) out.push_back(std::move(r));
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) return SchemaError(db, path, "reading names to re-fold");
  }
  return out;
}

// REQUIRES: inside the write transaction that created the schema.
Status UpgradeFolding(sqlite3* db, const std::string& path) {
  COMSEC_ASSIGN_OR_RETURN(auto rows, RowsToRefold(db, path));
  for (const Refold& r : rows) {
    const char* sql = r.is_key ? "UPDATE keys SET folded=?1 WHERE id=?2"
                               : "UPDATE reg_values SET folded=?1 WHERE key=?2 AND folded=?3";
    sqlite3_stmt* s = nullptr;
    if (sqlite3_prepare_v2(db, sql, -1, &s, nullptr) != SQLITE_OK) {
      return SchemaError(db, path, "re-folding names");
    }
    const std::string folded = FoldCase(r.name);
    sqlite3_bind_text(s, 1, folded.data(), static_cast<int>(folded.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 2, r.id);
    if (!r.is_key) {
      sqlite3_bind_text(s, 3, r.folded.data(), static_cast<int>(r.folded.size()),
                        SQLITE_TRANSIENT);
    }
    const int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if ((rc & 0xFF) == SQLITE_CONSTRAINT) {
      return Status(kCorrupt, "configuration store " + path + ": the " +
                                  (r.is_key ? "key" : "value") + " named '" + r.name +
                                  "' has a sibling whose name differs only in case under "
                                  "Windows's rules (schema 2); delete one of the two with "
                                  "the comcfg that wrote them, then open the store again");
    }
    if (rc != SQLITE_DONE) return SchemaError(db, path, "re-folding names");
  }
  if (sqlite3_exec(db, "UPDATE meta SET value=2 WHERE name='schema_version'", nullptr, nullptr,
                   nullptr) != SQLITE_OK) {
    return SchemaError(db, path, "recording schema version 2");
  }
  return Status();
}

}  // namespace

// ==== Store ===============================================================

Result<std::unique_ptr<Store>> Store::Open(const std::string& path,
                                           const StoreOptions& options) {
  // SQLite's in-memory database (an empty registry): no file to make or
  // to check the owner of.
  const bool in_memory = path == ":memory:";
  if (!options.read_only && !in_memory) {
    if (options.create_if_missing) {
      COMSEC_RETURN_IF_ERROR(CreateWithMode(path, options.file_mode));
    }
    // SQLite would quietly open a write-protected file read-only and fail
    // later with "attempt to write a readonly database"; say who may write.
    if (access(path.c_str(), W_OK) != 0 && errno == EACCES) {
      return Status(E_ACCESSDENIED,
                    "the configuration store " + path + " may be changed only by " +
                        OwnerOf(path) +
                        " (R161: like HKLM\\SOFTWARE\\Microsoft\\Ole, it is writable by "
                        "its administrator only); run the command as that user");
    }
  }
  sqlite3* db = nullptr;
  int flags = options.read_only ? SQLITE_OPEN_READONLY
                                : SQLITE_OPEN_READWRITE |
                                      (options.create_if_missing
                                           ? SQLITE_OPEN_CREATE
                                           : 0);
  flags |= SQLITE_OPEN_NOMUTEX;
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    if (access(path.c_str(), F_OK) == 0 && access(path.c_str(), R_OK) != 0) {
      return Status(E_ACCESSDENIED, "the file " + path + " may be read only by " +
                                        OwnerOf(path) + "; run the command as that user");
    }
    return Status(rc == SQLITE_CANTOPEN ? ERROR_NOT_FOUND : kIoFailed,
                  "cannot open the configuration store " + path + ": " + msg +
                      (options.create_if_missing
                           ? ""
                           : "; create it with 'comcfg init'"));
  }
  std::unique_ptr<Store> store(new Store(db, path));
  sqlite3_busy_timeout(db, options.busy_timeout_ms);
  sqlite3_extended_result_codes(db, 1);
  if (!options.read_only) {
    // WAL gives readers a snapshot while one writer works; FULL makes every
    // commit durable before it returns.
    COMSEC_RETURN_IF_ERROR(store->Exec("PRAGMA journal_mode=WAL"));
    // Keep the -wal and -shm files (with the store's own mode) when the
    // last writer closes: a reader that may not write the directory can
    // then still open the store read-only.
    int persist = 1;
    sqlite3_file_control(db, "main", SQLITE_FCNTL_PERSIST_WAL, &persist);
  }
  COMSEC_RETURN_IF_ERROR(store->Exec("PRAGMA synchronous=FULL"));
  COMSEC_RETURN_IF_ERROR(store->Exec("PRAGMA foreign_keys=ON"));
  if (!options.read_only) {
    COMSEC_RETURN_IF_ERROR(store->Exec("BEGIN IMMEDIATE"));
    Status s = store->Exec(kSchema);
    if (s.ok() && SchemaVersion(db) == 1) s = UpgradeFolding(db, path);
    if (!s.ok()) {
      (void)store->Exec("ROLLBACK");
      return s;
    }
    COMSEC_RETURN_IF_ERROR(store->Exec("COMMIT"));
  }
  // Refuse files that are not comsec stores, or from a future schema. A
  // schema 1 store opened read-only cannot be upgraded; it is read as it is
  // when no name in it folds differently now, and refused otherwise.
  const int version = SchemaVersion(db);
  if (version == 1 && options.read_only) {
    COMSEC_ASSIGN_OR_RETURN(auto rows, RowsToRefold(db, path));
    if (rows.empty()) return store;
    return Status(kCorrupt, path + " is a schema 1 store whose names with non-ASCII letters "
                                   "compare differently now; open it for writing once (any "
                                   "comcfg command that changes it) to upgrade it");
  }
  if (version != kSchemaVersion) {
    return Status(kCorrupt, path + " is not a comsec configuration store "
                                   "(schema version " +
                                std::to_string(version) + ")");
  }
  return store;
}

Status Store::EraseSecurely(const KeyPath& key) {
  COMSEC_RETURN_IF_ERROR(Exec("PRAGMA secure_delete=ON"));
  {
    COMSEC_ASSIGN_OR_RETURN(auto tx, BeginWrite());
    COMSEC_RETURN_IF_ERROR(tx->DeleteKey(key));
    COMSEC_RETURN_IF_ERROR(tx->Commit());
  }
  // The deleted pages are zeroed in the database; the write-ahead log still
  // holds older copies of them until it is checkpointed and emptied.
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db_, "PRAGMA wal_checkpoint(TRUNCATE)", -1, &s, nullptr) != SQLITE_OK) {
    return SqlError("checkpointing the write-ahead log");
  }
  const int rc = sqlite3_step(s);
  const bool busy = rc == SQLITE_ROW && sqlite3_column_int(s, 0) != 0;
  sqlite3_finalize(s);
  if (rc != SQLITE_ROW) return SqlError("checkpointing the write-ahead log");
  if (busy) {
    return Status(kBusy, "configuration store " + path_ +
                             ": a reader kept the write-ahead log from being emptied; old "
                             "copies of the erased values remain in " + path_ +
                             "-wal until the next checkpoint");
  }
  return Status();
}

Store::~Store() {
  for (auto& [sql, stmt] : statements_) sqlite3_finalize(stmt);
  sqlite3_close_v2(db_);
}

Status Store::SqlError(const char* what) const {
  int code = sqlite3_errcode(db_);
  HResult hr = (code & 0xFF) == SQLITE_BUSY || (code & 0xFF) == SQLITE_LOCKED
                   ? kBusy
               : (code & 0xFF) == SQLITE_CORRUPT || (code & 0xFF) == SQLITE_NOTADB
                   ? kCorrupt
                   : kIoFailed;
  std::string msg = std::string("configuration store ") + path_ + ": " + what +
                    ": " + sqlite3_errmsg(db_);
  if (hr == kBusy) msg += "; another process holds the store, try again";
  return Status(hr, std::move(msg));
}

Status Store::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    sqlite3_free(err);
    return SqlError(sql);
  }
  return Status();
}

namespace {

constexpr char kFindChild[] =
    "SELECT id FROM keys WHERE parent=?1 AND folded=?2";
constexpr char kInsertKey[] =
    "INSERT INTO keys(parent, name, folded) VALUES(?1, ?2, ?3)";
constexpr char kGetValue[] =
    "SELECT name, type, data FROM reg_values WHERE key=?1 AND folded=?2";
constexpr char kListValues[] =
    "SELECT name, type, data FROM reg_values WHERE key=?1 ORDER BY folded";
constexpr char kListChildren[] =
    "SELECT id, name FROM keys WHERE parent=?1 ORDER BY folded";
constexpr char kKeyName[] = "SELECT name FROM keys WHERE id=?1";
constexpr char kSetValue[] =
    "INSERT INTO reg_values(key, folded, name, type, data) "
    "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(key, folded) DO UPDATE SET "
    "name=excluded.name, type=excluded.type, data=excluded.data";
constexpr char kDeleteValue[] =
    "DELETE FROM reg_values WHERE key=?1 AND folded=?2";
constexpr char kDeleteKey[] = "DELETE FROM keys WHERE id=?1";

}  // namespace

sqlite3_stmt* Store::Prepare(const char* sql) {
  auto it = statements_.find(sql);
  if (it != statements_.end()) return it->second;
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &s,
                         nullptr) != SQLITE_OK) {
    return nullptr;
  }
  statements_[sql] = s;
  return s;
}

Result<int64_t> Store::FindKey(const KeyPath& key) {
  int64_t id = kRootId;
  for (const std::string& component : key.components) {
    Stmt s(Prepare(kFindChild));
    if (!s.get()) return SqlError("preparing a statement");
    s.Int(1, id);
    s.Text(2, FoldCase(component));
    int rc = s.Step();
    if (rc == SQLITE_DONE) return int64_t{0};
    if (rc != SQLITE_ROW) return SqlError("looking up a key");
    id = sqlite3_column_int64(s.get(), 0);
  }
  return id;
}

Result<int64_t> Store::EnsureKey(const KeyPath& key) {
  int64_t id = kRootId;
  for (const std::string& component : key.components) {
    std::string folded = FoldCase(component);
    int64_t child = 0;
    {
      Stmt s(Prepare(kFindChild));
    if (!s.get()) return SqlError("preparing a statement");
      s.Int(1, id);
      s.Text(2, folded);
      int rc = s.Step();
      if (rc == SQLITE_ROW) {
        child = sqlite3_column_int64(s.get(), 0);
      } else if (rc != SQLITE_DONE) {
        return SqlError("looking up a key");
      }
    }
    if (child == 0) {
      Stmt s(Prepare(kInsertKey));
    if (!s.get()) return SqlError("preparing a statement");
      s.Int(1, id);
      s.Text(2, component);
      s.Text(3, folded);
      if (s.Step() != SQLITE_DONE) return SqlError("creating a key");
      child = sqlite3_last_insert_rowid(db_);
    }
    id = child;
  }
  return id;
}

Result<std::unique_ptr<ReadTransaction>> Store::BeginRead() {
  COMSEC_RETURN_IF_ERROR(Exec("BEGIN DEFERRED"));
  // The snapshot starts at the first read; take it now so that everything
  // read through the transaction belongs to one moment.
  Stmt s(Prepare(kKeyName));
    if (!s.get()) return SqlError("preparing a statement");
  s.Int(1, kRootId);
  if (s.Step() != SQLITE_ROW) {
    (void)Exec("ROLLBACK");
    return SqlError("starting a read");
  }
  return std::unique_ptr<ReadTransaction>(new ReadTransaction(this, true));
}

Result<std::unique_ptr<WriteTransaction>> Store::BeginWrite() {
  COMSEC_RETURN_IF_ERROR(Exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<WriteTransaction>(new WriteTransaction(this));
}

Result<std::optional<RegValue>> Store::GetValue(const KeyPath& key,
                                                std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, BeginRead());
  return tx->GetValue(key, name);
}

Status Store::SetValue(const KeyPath& key, const RegValue& value) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, BeginWrite());
  COMSEC_RETURN_IF_ERROR(tx->SetValue(key, value));
  return tx->Commit();
}

Status Store::ImportOperations(const std::vector<RegOperation>& operations) {
  COMSEC_ASSIGN_OR_RETURN(auto tx, BeginWrite());
  COMSEC_RETURN_IF_ERROR(tx->Apply(operations));
  return tx->Commit();
}

Result<uint64_t> Store::Generation() {
  Stmt s(Prepare("PRAGMA data_version"));
    if (!s.get()) return SqlError("preparing a statement");
  if (s.Step() != SQLITE_ROW) return SqlError("reading data_version");
  // data_version changes only for other connections' commits; count our own.
  return static_cast<uint64_t>(sqlite3_column_int64(s.get(), 0)) +
         (local_writes_ << 32);
}

// ==== ReadTransaction =====================================================

ReadTransaction::~ReadTransaction() {
  if (owns_) (void)store_->Exec("COMMIT");
}

Result<std::optional<RegValue>> ReadTransaction::GetValue(
    const KeyPath& key, std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) return std::optional<RegValue>();
  Stmt s(store_->Prepare(kGetValue));
  if (!s.get()) return store_->SqlError("preparing a statement");
  s.Int(1, id);
  s.Text(2, FoldCase(name));
  int rc = s.Step();
  if (rc == SQLITE_DONE) return std::optional<RegValue>();
  if (rc != SQLITE_ROW) return store_->SqlError("reading a value");
  return std::optional<RegValue>(ColumnValue(s.get(), 0));
}

Result<bool> ReadTransaction::KeyExists(const KeyPath& key) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  return id != 0;
}

Status ReadTransaction::ReadContents(
    int64_t id, KeyContents& out,
    std::vector<std::pair<int64_t, std::string>>* children) {
  Store* store = store_;
  sqlite3* db = store_->db_;
  {
    Stmt s(store->Prepare(kListValues));
    if (!s.get()) return store->SqlError("preparing a statement");
    s.Int(1, id);
    int rc;
    while ((rc = s.Step()) == SQLITE_ROW) {
      out.values.push_back(ColumnValue(s.get(), 0));
    }
    if (rc != SQLITE_DONE) {
      return Status(kIoFailed, std::string("configuration store: ") +
                                   sqlite3_errmsg(db));
    }
  }
  Stmt s(store->Prepare(kListChildren));
    if (!s.get()) return store->SqlError("preparing a statement");
  s.Int(1, id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    std::string name = ColumnText(s.get(), 1);
    out.subkeys.push_back(name);
    if (children) children->emplace_back(sqlite3_column_int64(s.get(), 0), name);
  }
  if (rc != SQLITE_DONE) {
    return Status(kIoFailed,
                  std::string("configuration store: ") + sqlite3_errmsg(db));
  }
  return Status();
}

Result<KeyContents> ReadTransaction::ReadKey(const KeyPath& key) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) {
    return Status(ERROR_NOT_FOUND,
                  "key " + key.ToString() + " does not exist");
  }
  KeyContents out;
  out.path = key;
  {
    // The name as created, whatever case `key` spells it in.
    Stmt s(store_->Prepare(kKeyName));
    if (!s.get()) return store_->SqlError("preparing a statement");
    s.Int(1, id);
    if (s.Step() != SQLITE_ROW) return store_->SqlError("reading a key's name");
    out.name = ColumnText(s.get(), 0);
  }
  COMSEC_RETURN_IF_ERROR(ReadContents(id, out, nullptr));
  return out;
}

Result<std::optional<std::vector<RegValue>>> ReadTransaction::ReadValues(
    const KeyPath& key) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) return std::optional<std::vector<RegValue>>();
  std::vector<RegValue> values;
  Stmt s(store_->Prepare(kListValues));
  if (!s.get()) return store_->SqlError("preparing a statement");
  s.Int(1, id);
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) values.push_back(ColumnValue(s.get(), 0));
  if (rc != SQLITE_DONE) return store_->SqlError("reading values");
  return std::optional<std::vector<RegValue>>(std::move(values));
}

Result<std::vector<KeyContents>> ReadTransaction::ReadTree(const KeyPath& key) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) {
    return Status(ERROR_NOT_FOUND,
                  "key " + key.ToString() + " does not exist");
  }
  // Depth-first, parents before children, children in name order.
  std::vector<KeyContents> out;
  struct Pending {
    int64_t id;
    KeyPath path;
  };
  std::vector<Pending> stack = {{id, key}};
  while (!stack.empty()) {
    Pending p = std::move(stack.back());
    stack.pop_back();
    KeyContents kc;
    kc.path = p.path;
    kc.name = p.path.IsRoot() ? std::string(kHklm) : p.path.components.back();
    std::vector<std::pair<int64_t, std::string>> children;
    COMSEC_RETURN_IF_ERROR(
        ReadContents(p.id, kc, &children));
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      stack.push_back({it->first, p.path.Child(it->second)});
    }
    out.push_back(std::move(kc));
  }
  return out;
}

// ==== WriteTransaction ====================================================

WriteTransaction::~WriteTransaction() {
  if (!done_) (void)store_->Exec("ROLLBACK");
}

Status WriteTransaction::CreateKey(const KeyPath& key) {
  return store_->EnsureKey(key).status();
}

Status WriteTransaction::DeleteKey(const KeyPath& key) {
  if (key.IsRoot()) {
    return Status(E_ACCESSDENIED,
                  "HKEY_LOCAL_MACHINE itself cannot be deleted");
  }
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) return Status();
  Stmt s(store_->Prepare(kDeleteKey));
  if (!s.get()) return store_->SqlError("preparing a statement");
  s.Int(1, id);
  if (s.Step() != SQLITE_DONE) return store_->SqlError("deleting a key");
  return Status();
}

Status WriteTransaction::SetValue(const KeyPath& key, const RegValue& value) {
  if (value.name.size() > kMaxValueNameLength) {
    return Status(E_INVALIDARG, "value name longer than 16383 characters");
  }
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->EnsureKey(key));
  Stmt s(store_->Prepare(kSetValue));
  if (!s.get()) return store_->SqlError("preparing a statement");
  s.Int(1, id);
  s.Text(2, FoldCase(value.name));
  s.Text(3, value.name);
  s.Int(4, static_cast<int64_t>(value.type));
  s.Blob(5, value.data);
  if (s.Step() != SQLITE_DONE) return store_->SqlError("writing a value");
  return Status();
}

Status WriteTransaction::DeleteValue(const KeyPath& key, std::string_view name) {
  COMSEC_ASSIGN_OR_RETURN(int64_t id, store_->FindKey(key));
  if (id == 0) return Status();
  Stmt s(store_->Prepare(kDeleteValue));
  if (!s.get()) return store_->SqlError("preparing a statement");
  s.Int(1, id);
  s.Text(2, FoldCase(name));
  if (s.Step() != SQLITE_DONE) return store_->SqlError("deleting a value");
  return Status();
}

Status WriteTransaction::Apply(const std::vector<RegOperation>& operations) {
  for (const RegOperation& op : operations) {
    auto path = KeyPath::Parse(op.key);
    if (!path.ok()) {
      return std::move(path).TakeStatus().Prefixed("line " +
                                                   std::to_string(op.line));
    }
    Status s;
    switch (op.kind) {
      case RegOperation::Kind::kCreateKey:
        s = CreateKey(*path);
        break;
      case RegOperation::Kind::kDeleteKey:
        s = DeleteKey(*path);
        break;
      case RegOperation::Kind::kSetValue:
        s = SetValue(*path, op.value);
        break;
      case RegOperation::Kind::kDeleteValue:
        s = DeleteValue(*path, op.value.name);
        break;
    }
    if (!s.ok()) return std::move(s).Prefixed("line " + std::to_string(op.line));
  }
  return Status();
}

Status WriteTransaction::Commit() {
  COMSEC_RETURN_IF_ERROR(store_->Exec("COMMIT"));
  done_ = true;
  ++store_->local_writes_;
  return Status();
}

}  // namespace comsec::config
