// Store: comsec's registry — a tree of keys holding typed values, in one
// SQLite file (WAL mode, synchronous=FULL), shared by comsecd, the runtime
// and comcfg across processes.
//
// Guarantees:
//  * Every write is one SQLite transaction: a multi-value change (a .reg
//    import, `comcfg perms grant`) is applied whole or not at all, even if
//    the writer is killed mid-way; the file always opens afterwards.
//  * Readers see a consistent snapshot: a ReadTransaction never observes
//    half of a writer's transaction (WAL snapshot isolation).
//  * Many readers and one writer at a time across processes; a writer that
//    finds the store busy waits up to `busy_timeout_ms` and then fails with
//    HRESULT_FROM_WIN32(ERROR_BUSY).
//
// Thread affinity: a Store (one SQLite connection) is used by one thread at
// a time; open one Store per thread. One transaction at a time per Store:
// end a ReadTransaction before BeginWrite (or read through
// WriteTransaction::reader()).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "comsec/base/result.h"
#include "comsec/config/key_path.h"
#include "comsec/config/reg_file.h"
#include "comsec/config/reg_value.h"

struct sqlite3;
struct sqlite3_stmt;

namespace comsec::config {

struct StoreOptions {
  bool create_if_missing = true;
  // The mode a new file gets whatever the umask: the policy store is
  // readable by every local COM process and writable by its owner only
  // (R161); the secrets file (config/secrets.h) is 0600.
  unsigned file_mode = 0644;
  bool read_only = false;
  int busy_timeout_ms = 10000;
};

// The values and subkey names of one key, read in one snapshot.
struct KeyContents {
  KeyPath path;
  std::string name;  // the key's own name, as created
  std::vector<RegValue> values;
  std::vector<std::string> subkeys;
};

class Store;

// A consistent view of the store. Reads through it see one snapshot.
class ReadTransaction {
 public:
  ~ReadTransaction();
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;

  // Empty when the key or value does not exist.
  Result<std::optional<RegValue>> GetValue(const KeyPath& key,
                                           std::string_view name);
  Result<bool> KeyExists(const KeyPath& key);
  // ERROR_NOT_FOUND when the key does not exist.
  Result<KeyContents> ReadKey(const KeyPath& key);
  // Every value of the key (no subkeys); empty when the key does not exist.
  // One lookup for many values: what policy resolution uses.
  Result<std::optional<std::vector<RegValue>>> ReadValues(const KeyPath& key);
  // The key and every key below it, parents before children.
  Result<std::vector<KeyContents>> ReadTree(const KeyPath& key);

 private:
  friend class Store;
  friend class WriteTransaction;
  Status ReadContents(int64_t id, KeyContents& out,
                      std::vector<std::pair<int64_t, std::string>>* children);
  // `owns` is false for the reader embedded in a WriteTransaction, which
  // ends the SQLite transaction itself.
  ReadTransaction(Store* store, bool owns) : store_(store), owns_(owns) {}
  Store* store_;
  bool owns_;
};

// A write in progress. Nothing is visible to others until Commit(); the
// destructor rolls back an uncommitted transaction.
class WriteTransaction {
 public:
  ~WriteTransaction();
  WriteTransaction(const WriteTransaction&) = delete;
  WriteTransaction& operator=(const WriteTransaction&) = delete;

  // Creates the key and any missing parents; existing keys are kept.
  Status CreateKey(const KeyPath& key);
  // Deletes the key and its subtree; deleting a missing key succeeds.
  // The root cannot be deleted.
  Status DeleteKey(const KeyPath& key);
  // Creates the key if needed and sets (replaces) the value.
  Status SetValue(const KeyPath& key, const RegValue& value);
  // Deleting a missing value succeeds.
  Status DeleteValue(const KeyPath& key, std::string_view name);
  // Applies parsed .reg operations in order.
  Status Apply(const std::vector<RegOperation>& operations);

  // Reads inside the transaction see its own writes.
  ReadTransaction& reader() { return reader_; }

  Status Commit();

 private:
  friend class Store;
  explicit WriteTransaction(Store* store)
      : store_(store), reader_(store, false) {}
  Store* store_;
  ReadTransaction reader_;
  bool done_ = false;
};

class Store {
 public:
  // Opens (and by default creates) the store at `path`; creating writes the
  // schema and the root key. Fails with a message naming the path.
  static Result<std::unique_ptr<Store>> Open(const std::string& path,
                                             const StoreOptions& options = {});
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  Result<std::unique_ptr<ReadTransaction>> BeginRead();
  // BEGIN IMMEDIATE: takes the single writer slot or waits for it.
  Result<std::unique_ptr<WriteTransaction>> BeginWrite();

  // One-shot conveniences, each its own transaction.
  Result<std::optional<RegValue>> GetValue(const KeyPath& key,
                                           std::string_view name);
  Status SetValue(const KeyPath& key, const RegValue& value);
  Status ImportOperations(const std::vector<RegOperation>& operations);

  // Deletes `key` and its subtree so that no copy of its values remains in
  // the files: freed pages are zeroed (secure_delete) and the write-ahead
  // log is checkpointed and truncated. HRESULT_FROM_WIN32(ERROR_BUSY) when
  // a reader kept the log from being emptied (the key is deleted anyway).
  Status EraseSecurely(const KeyPath& key);

  // Changes whenever any connection commits a write; lets caches know when
  // to re-read (PRAGMA data_version plus this connection's own writes).
  Result<uint64_t> Generation();

  const std::string& path() const { return path_; }

 private:
  friend class ReadTransaction;
  friend class WriteTransaction;
  Store(sqlite3* db, std::string path) : db_(db), path_(std::move(path)) {}

  Status Exec(const char* sql);
  // A cached prepared statement for `sql` (a string literal; the pointer is
  // the cache key), or nullptr with the error left in the connection.
  sqlite3_stmt* Prepare(const char* sql);
  Status SqlError(const char* what) const;
  // The row id of the key, or 0 when it does not exist.
  Result<int64_t> FindKey(const KeyPath& key);
  Result<int64_t> EnsureKey(const KeyPath& key);

  sqlite3* db_;
  std::string path_;
  uint64_t local_writes_ = 0;
  std::map<const char*, sqlite3_stmt*> statements_;
};

}  // namespace comsec::config
