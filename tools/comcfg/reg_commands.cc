// comcfg reg import | export | query | set | delete — the registry view of
// the store, with regedit's .reg format.
#include <fstream>
#include <iterator>
#include <ostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "comsec/base/hex.h"
#include "comcfg/command.h"
#include "comsec/base/win32_error.h"
#include "comsec/config/accounts.h"
#include "comcfg/store_access.h"
#include "comsec/config/reg_file.h"

namespace comsec::comcfg {

using namespace comsec::config;  // NOLINT: a tool file using its layer

namespace {

std::string DataText(const RegValue& v) {
  switch (v.type) {
    case RegType::kSz:
    case RegType::kExpandSz: {
      auto s = v.AsString();
      if (s.ok()) return *s;
      break;
    }
    case RegType::kDword: {
      auto d = v.AsDword();
      if (d.ok()) {
        char b[24];
        std::snprintf(b, sizeof b, "0x%x (%u)", *d, *d);
        return b;
      }
      break;
    }
    case RegType::kQword: {
      auto q = v.AsQword();
      if (q.ok()) return std::to_string(*q);
      break;
    }
    case RegType::kMultiSz: {
      auto m = v.AsMultiString();
      if (m.ok()) {
        std::string out;
        for (size_t i = 0; i < m->size(); ++i) {
          out += (i ? "\\0" : "") + (*m)[i];
        }
        return out;
      }
      break;
    }
    default:
      break;
  }
  return ToHex(v.data);
}

nlohmann::json ValueJson(const RegValue& v) {
  return {{"name", v.name},
          {"type", RegTypeName(v.type)},
          {"data", DataText(v)},
          {"hex", ToHex(v.data)}};
}

// Parses the DATA of `reg set` for TYPE, as reg.exe reads it: numbers for
// DWORD/QWORD (decimal or 0x), hex for binary types, "\0"-separated strings
// for REG_MULTI_SZ.
Result<RegValue> ParseData(const std::string& name, RegType type,
                           const std::string& data) {
  switch (type) {
    case RegType::kSz:
    case RegType::kExpandSz:
      return RegValue::String(name, data, type);
    case RegType::kMultiSz: {
      std::vector<std::string> parts;
      size_t start = 0;
      for (;;) {
        size_t sep = data.find("\\0", start);
        parts.push_back(data.substr(start, sep - start));
        if (sep == std::string::npos) break;
        start = sep + 2;
      }
      if (data.empty()) parts.clear();
      return RegValue::MultiString(name, parts);
    }
    case RegType::kDword:
    case RegType::kQword: {
      // C's base 0, as reg.exe's /d reads numbers: 0x hex, 0 octal.
      auto v = ParseUnsigned(data, NumberBase::kC,
                             type == RegType::kQword ? UINT64_MAX : 0xFFFFFFFFu);
      if (!v.ok()) {
        return Status(E_INVALIDARG, "\"" + data + "\" is not a " + RegTypeName(type) +
                                        " number: " + std::string(v.status().message()));
      }
      return type == RegType::kDword
                 ? RegValue::Dword(name, static_cast<uint32_t>(*v))
                 : RegValue::Qword(name, *v);
    }
    default: {
      COMSEC_ASSIGN_OR_RETURN(std::vector<uint8_t> bytes, FromHex(data));
      RegValue v = RegValue::Binary(name, std::move(bytes));
      v.type = type;
      return v;
    }
  }
}

struct QueryArgs {
  std::string key;
  std::string value;
  bool json = false;
};

// `reg query`: one value, or the key's values and subkeys.
Status PrintQuery(const QueryArgs& q, bool has_value, const KeyPath& path,
                  const KeyContents& contents, const Io& io) {
  if (has_value) {
    const RegValue* found = nullptr;
    for (const RegValue& v : contents.values) {
      if (FoldCase(v.name) == FoldCase(q.value)) found = &v;
    }
    if (!found) {
      return Status(ERROR_NOT_FOUND, "value \"" + q.value +
                                           "\" does not exist in " +
                                           path.ToString());
    }
    if (q.json) {
      io.out << ValueJson(*found).dump(2) << "\n";
    } else {
      io.out << (found->name.empty() ? "(Default)" : found->name) << "    "
             << RegTypeName(found->type) << "    " << DataText(*found) << "\n";
    }
    return Status();
  }
  if (q.json) {
    nlohmann::json j;
    j["key"] = path.ToString();
    j["values"] = nlohmann::json::array();
    for (const RegValue& v : contents.values) j["values"].push_back(ValueJson(v));
    j["subkeys"] = contents.subkeys;
    io.out << j.dump(2) << "\n";
    return Status();
  }
  io.out << path.ToString() << "\n";
  for (const RegValue& v : contents.values) {
    io.out << "    " << (v.name.empty() ? "(Default)" : v.name) << "    "
           << RegTypeName(v.type) << "    " << DataText(v) << "\n";
  }
  for (const std::string& s : contents.subkeys) {
    io.out << path.ToString() << "\\" << s << "\n";
  }
  return Status();
}

}  // namespace

void AddRegCommands(CLI::App& app, const GlobalOptions& global, const Io& io,
                    int* exit_code) {
  CLI::App* reg = app.add_subcommand(
      "reg", "read and write the store as a registry (.reg import/export)");
  reg->require_subcommand(1);

  // ---- import
  auto import_file = std::make_shared<std::string>();
  CLI::App* import = reg->add_subcommand(
      "import", "apply a .reg file in one transaction; any error rejects it "
                "whole and leaves the store unchanged");
  import->add_option("FILE", *import_file, ".reg file (REGEDIT4 or 5.00, "
                                           "UTF-16LE or UTF-8); - for stdin")
      ->required();
  import->callback([import_file, &global, &io, exit_code] {
    std::vector<uint8_t> bytes;
    if (*import_file == "-") {
      bytes.assign(std::istreambuf_iterator<char>(std::cin),
                   std::istreambuf_iterator<char>());
    } else {
      std::ifstream in(*import_file, std::ios::binary);
      if (!in) {
        *exit_code = ReportFailure(
            io, Status(ERROR_NOT_FOUND, "cannot read " + *import_file));
        return;
      }
      bytes.assign(std::istreambuf_iterator<char>(in),
                   std::istreambuf_iterator<char>());
    }
    auto ops = ParseRegFile(bytes);
    if (!ops.ok()) {
      *exit_code = ReportBadInput(
          io, Status(ops.status().code(),
                     *import_file + ": " + std::string(ops.status().message())));
      return;
    }
    for (const RegOperation& op : *ops) {
      auto key = KeyPath::Parse(op.key);
      if (key.ok() && (IsAccountKey(*key) || IsAccountKey(key->Child("x")))) {
        *exit_code = ReportFailure(io, AccountKeyRefused(*key));
        return;
      }
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = (*store)->ImportOperations(*ops);
    if (!s.ok()) {
      *exit_code = ReportFailure(
          io, std::move(s).Prefixed(*import_file + ": nothing was imported"));
      return;
    }
    io.out << "imported " << ops->size() << " entries from " << *import_file
           << "\n";
    *exit_code = kExitOk;
  });

  // ---- export
  struct ExportArgs {
    std::string key = "HKEY_LOCAL_MACHINE";
    std::string format = "utf8";
  };
  auto ex = std::make_shared<ExportArgs>();
  CLI::App* exp = reg->add_subcommand(
      "export", "write a key and its subtree as a .reg file to stdout");
  exp->add_option("KEY", ex->key, "key to export (default: everything)");
  exp->add_option("--format", ex->format,
                  "utf8 (default), utf16 (regedit's own) or regedit4")
      ->check(CLI::IsMember({"utf8", "utf16", "regedit4"}));
  exp->callback([ex, &global, &io, exit_code] {
    auto path = KeyPath::Parse(ex->key);
    if (!path.ok()) {
      *exit_code = ReportBadInput(io, path.status());
      return;
    }
    RegFileFormat format = ex->format == "utf16" ? RegFileFormat::kRegedit5Utf16
                           : ex->format == "regedit4"
                               ? RegFileFormat::kRegedit4
                               : RegFileFormat::kRegedit5Utf8;
    *exit_code = WithRead(global, io, [&](ReadTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(std::vector<KeyContents> tree, tx.ReadTree(*path));
      std::vector<RegExportKey> keys;
      for (const KeyContents& k : tree) {
        if (IsAccountKey(k.path)) continue;  // never export password hashes
        keys.push_back({k.path.ToString(), k.values});
      }
      std::vector<uint8_t> bytes = FormatRegFile(keys, format);
      io.out.write(reinterpret_cast<const char*>(bytes.data()),
                   static_cast<std::streamsize>(bytes.size()));
      return Status();
    });
  });

  // ---- query
  auto q = std::make_shared<QueryArgs>();
  CLI::App* query = reg->add_subcommand("query", "show a key or one value");
  query->add_option("KEY", q->key, "key path")->required();
  CLI::Option* value_opt =
      query->add_option("VALUE", q->value, "value name (\"\" = default)");
  query->add_flag("--json", q->json, "print JSON");
  query->callback([q, value_opt, &global, &io, exit_code] {
    auto path = KeyPath::Parse(q->key);
    if (!path.ok()) {
      *exit_code = ReportBadInput(io, path.status());
      return;
    }
    if (IsAccountKey(*path)) {
      *exit_code = ReportFailure(io, AccountKeyRefused(*path));
      return;
    }
    *exit_code = WithRead(global, io, [&](ReadTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(KeyContents contents, tx.ReadKey(*path));
      return PrintQuery(*q, value_opt->count() > 0, *path, contents, io);
    });
  });

  // ---- set
  struct SetArgs {
    std::string key, value, type, data;
  };
  auto sa = std::make_shared<SetArgs>();
  CLI::App* set = reg->add_subcommand(
      "set", "set a value: TYPE is REG_SZ, REG_EXPAND_SZ, REG_MULTI_SZ "
             "(parts separated by \\0), REG_BINARY (hex), REG_DWORD, "
             "REG_QWORD (decimal or 0x)");
  set->add_option("KEY", sa->key, "key path (created if missing)")->required();
  set->add_option("VALUE", sa->value, "value name (\"\" = default)")
      ->required();
  set->add_option("TYPE", sa->type, "REG_* type")->required();
  set->add_option("DATA", sa->data, "the data")->required();
  set->callback([sa, &global, &io, exit_code] {
    auto path = KeyPath::Parse(sa->key);
    if (!path.ok()) {
      *exit_code = ReportBadInput(io, path.status());
      return;
    }
    if (IsAccountKey(*path)) {
      *exit_code = ReportFailure(io, AccountKeyRefused(*path));
      return;
    }
    auto type = ParseRegTypeName(sa->type);
    if (!type.ok()) {
      *exit_code = ReportBadInput(io, type.status());
      return;
    }
    auto value = ParseData(sa->value, *type, sa->data);
    if (!value.ok()) {
      *exit_code = ReportBadInput(io, value.status());
      return;
    }
    auto store = OpenStore(global);
    if (!store.ok()) {
      *exit_code = ReportFailure(io, store.status());
      return;
    }
    Status s = (*store)->SetValue(*path, *value);
    *exit_code = s.ok() ? kExitOk : ReportFailure(io, s);
  });

  // ---- delete
  auto da = std::make_shared<QueryArgs>();
  CLI::App* del = reg->add_subcommand(
      "delete", "delete a value, or a key with its subtree");
  del->add_option("KEY", da->key, "key path")->required();
  CLI::Option* del_value =
      del->add_option("VALUE", da->value, "value name; omit to delete the key");
  del->callback([da, del_value, &global, &io, exit_code] {
    auto path = KeyPath::Parse(da->key);
    if (!path.ok()) {
      *exit_code = ReportBadInput(io, path.status());
      return;
    }
    if (IsAccountKey(*path)) {
      *exit_code = ReportFailure(io, AccountKeyRefused(*path));
      return;
    }
    *exit_code = WithWrite(global, io, [&](WriteTransaction& tx) -> Status {
      COMSEC_ASSIGN_OR_RETURN(bool exists, tx.reader().KeyExists(*path));
      if (!exists) {
        return Status(ERROR_NOT_FOUND,
                      "key " + path->ToString() + " does not exist");
      }
      if (del_value->count() == 0) return tx.DeleteKey(*path);
      COMSEC_ASSIGN_OR_RETURN(std::optional<RegValue> v,
                              tx.reader().GetValue(*path, da->value));
      if (!v) {
        return Status(ERROR_NOT_FOUND, "value \"" + da->value +
                                             "\" does not exist in " +
                                             path->ToString());
      }
      return tx.DeleteValue(*path, da->value);
    });
  });
}

}  // namespace comsec::comcfg
