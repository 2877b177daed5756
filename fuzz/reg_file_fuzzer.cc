// Fuzz target: `.reg` file parsing, with round-trip checks. Whatever parses
// must format in all three formats and parse back to the same keys and
// values, byte for byte, except what RegFileRoundTrips says a format cannot
// carry (REGEDIT4's single-byte text); those values are left out rather
// than compared, so the fuzzer also checks that the predicate is not too
// generous.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <vector>

#include "comsec/config/reg_file.h"

namespace {

using comsec::config::FormatRegFile;
using comsec::config::ParseRegFile;
using comsec::config::RegExportKey;
using comsec::config::RegFileFormat;
using comsec::config::RegFileRoundTrips;
using comsec::config::RegOperation;
using comsec::config::RegValue;

// The keys and set values of a parsed file, grouped the way the file
// grouped them: one export key per [key] line, with the values under it.
std::vector<RegExportKey> Sections(const std::vector<RegOperation>& ops) {
  std::vector<RegExportKey> keys;
  for (const RegOperation& op : ops) {
    if (op.kind == RegOperation::Kind::kCreateKey) {
      keys.push_back({op.key, {}});
    } else if (op.kind == RegOperation::Kind::kSetValue) {
      if (keys.empty() || keys.back().path != op.key) abort();
      keys.back().values.push_back(op.value);
    }
  }
  return keys;
}

void CheckRoundTrip(const std::vector<RegExportKey>& all, RegFileFormat f) {
  std::vector<RegExportKey> keys;
  for (const RegExportKey& key : all) {
    if (!RegFileRoundTrips(key.path, f)) continue;
    RegExportKey kept{key.path, {}};
    for (const RegValue& v : key.values) {
      if (RegFileRoundTrips(key.path, v, f)) kept.values.push_back(v);
    }
    keys.push_back(std::move(kept));
  }
  const std::vector<uint8_t> bytes = FormatRegFile(keys, f);
  auto ops = ParseRegFile(bytes);
  if (!ops.ok()) abort();
  size_t i = 0;
  for (const RegExportKey& key : keys) {
    if (i >= ops->size()) abort();
    const RegOperation& create = (*ops)[i++];
    if (create.kind != RegOperation::Kind::kCreateKey) abort();
    if (create.key != key.path) abort();
    for (const RegValue& v : key.values) {
      if (i >= ops->size()) abort();
      const RegOperation& set = (*ops)[i++];
      if (set.kind != RegOperation::Kind::kSetValue) abort();
      if (set.key != key.path || !(set.value == v)) abort();
    }
  }
  if (i != ops->size()) abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto ops = ParseRegFile(std::span<const uint8_t>(data, size));
  if (!ops.ok()) {
    // Every rejection names its place.
    if (!ops.status().position().has_value()) abort();
    return 0;
  }
  const std::vector<RegExportKey> keys = Sections(*ops);
  // Whatever the parser produces, both version 5 formats can carry: names
  // without NUL, data within the limit, canonical roots.
  for (const RegExportKey& key : keys) {
    if (!RegFileRoundTrips(key.path, RegFileFormat::kRegedit5Utf8)) abort();
    for (const RegValue& v : key.values) {
      if (!RegFileRoundTrips(key.path, v, RegFileFormat::kRegedit5Utf8)) {
        abort();
      }
    }
  }
  CheckRoundTrip(keys, RegFileFormat::kRegedit5Utf16);
  CheckRoundTrip(keys, RegFileFormat::kRegedit5Utf8);
  CheckRoundTrip(keys, RegFileFormat::kRegedit4);
  return 0;
}
