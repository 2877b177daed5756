// A helper process for the store's crash-safety and concurrency tests.
//
//   store_stress write PATH COUNT ROUNDS   each round imports COUNT values
//                                          under HKLM\Stress, all set to the
//                                          round number (one .reg import)
//   store_stress read PATH COUNT MS        reads snapshots for MS milliseconds;
//                                          every snapshot must hold COUNT
//                                          equal values or none
//   store_stress check PATH COUNT          checks one snapshot, prints its round
//
// Exit status 0 on success; 3 on a torn read; 4 on a store error.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "comsec/base/win32_error.h"
#include "comsec/config/store.h"

using comsec::config::KeyPath;
using comsec::config::RegValue;
using comsec::config::Store;

namespace {

int Write(const std::string& path, int count, int rounds) {
  auto store = Store::Open(path);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 4;
  }
  KeyPath key = *KeyPath::Parse("HKLM\\Stress");
  for (int round = 1; round <= rounds; ++round) {
    // One .reg import per round, applied as parsed operations.
    std::vector<comsec::config::RegOperation> ops;
    ops.reserve(static_cast<size_t>(count));
    for (int i = 0; i < count; ++i) {
      comsec::config::RegOperation op;
      op.kind = comsec::config::RegOperation::Kind::kSetValue;
      // Spread values over subkeys so an import touches many pages.
      op.key = key.Child("k" + std::to_string(i % 50)).ToString();
      op.value = RegValue::Dword("v" + std::to_string(i),
                                 static_cast<uint32_t>(round));
      op.line = static_cast<size_t>(i + 3);
      ops.push_back(std::move(op));
    }
    auto s = (*store)->ImportOperations(ops);
    if (!s.ok()) {
      std::fprintf(stderr, "%s\n", s.ToString().c_str());
      return 4;
    }
  }
  return 0;
}

// Checks one snapshot: all `count` values equal, or the key absent.
int CheckOnce(Store& store, int count, long* last_round) {
  auto tx = store.BeginRead();
  if (!tx.ok()) {
    std::fprintf(stderr, "%s\n", tx.status().ToString().c_str());
    return 4;
  }
  KeyPath key = *KeyPath::Parse("HKLM\\Stress");
  auto tree = (*tx)->ReadTree(key);
  if (!tree.ok()) {
    if (tree.status().code() == comsec::ERROR_NOT_FOUND) return 0;
    std::fprintf(stderr, "%s\n", tree.status().ToString().c_str());
    return 4;
  }
  long seen = -1;
  int values = 0;
  for (const auto& k : *tree) {
    for (const RegValue& v : k.values) {
      auto d = v.AsDword();
      if (!d.ok()) return 3;
      if (seen >= 0 && *d != seen) {
        std::fprintf(stderr, "torn read: %ld and %u\n", seen, *d);
        return 3;
      }
      seen = *d;
      ++values;
    }
  }
  if (values != 0 && values != count) {
    std::fprintf(stderr, "torn read: %d of %d values\n", values, count);
    return 3;
  }
  if (last_round) *last_round = seen;
  return 0;
}

int Read(const std::string& path, int count, int milliseconds) {
  auto store = Store::Open(path);
  if (!store.ok()) {
    std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
    return 4;
  }
  auto end = std::chrono::steady_clock::now() +
             std::chrono::milliseconds(milliseconds);
  int snapshots = 0;
  while (std::chrono::steady_clock::now() < end) {
    int rc = CheckOnce(**store, count, nullptr);
    if (rc != 0) return rc;
    ++snapshots;
  }
  std::printf("%d snapshots\n", snapshots);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 5 && std::string(argv[1]) == "write") {
    return Write(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  if (argc == 5 && std::string(argv[1]) == "read") {
    return Read(argv[2], std::atoi(argv[3]), std::atoi(argv[4]));
  }
  if (argc == 4 && std::string(argv[1]) == "check") {
    auto store = Store::Open(argv[2]);
    if (!store.ok()) {
      std::fprintf(stderr, "%s\n", store.status().ToString().c_str());
      return 4;
    }
    long round = -1;
    int rc = CheckOnce(**store, std::atoi(argv[3]), &round);
    std::printf("%ld\n", round);
    return rc;
  }
  std::fprintf(stderr, "usage: store_stress write|read|check ...\n");
  return 2;
}
