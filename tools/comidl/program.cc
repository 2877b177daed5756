#include "comidl/program.h"

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "comidl/base_idl.h"
#include "comidl/parser.h"

namespace comsec::comidl {
namespace {

namespace fs = std::filesystem;

bool ReadFile(const fs::path& p, std::string& out) {
  std::ifstream in(p, std::ios::binary);
  if (!in) return false;
  std::ostringstream s;
  s << in.rdbuf();
  out = s.str();
  return true;
}

std::string BaseName(const std::string& path) {
  std::string name = fs::path(path).filename().string();
  if (name.size() > 4 && name.substr(name.size() - 4) == ".idl") name.resize(name.size() - 4);
  return name;
}

class Loader {
 public:
  Loader(const std::vector<std::string>& dirs, Diagnostics& diags, Program& program)
      : dirs_(dirs), diags_(diags), program_(program) {}

  // Loads one file (already located); its imports first.
  File* Load(const std::string& key, const std::string& display, std::string text,
             bool bundled) {
    if (auto it = loaded_.find(key); it != loaded_.end()) return it->second;
    loaded_[key] = nullptr;  // an import cycle reaches this file again: ignored
    auto file = std::make_unique<File>();
    file->path = display;
    file->base_name = BaseName(display);
    file->bundled = bundled;
    int index = diags_.AddFile(display);
    texts_.push_back(std::move(text));
    Parse(texts_.back(), index, diags_, *file);
    for (const Item& item : file->items) {
      if (item.kind == Item::Kind::kImport) Import(item, display);
    }
    File* raw = file.get();
    program_.files.push_back(std::move(file));
    loaded_[key] = raw;
    return raw;
  }

 private:
  void Import(const Item& item, const std::string& importer) {
    std::string name = item.text;
    std::vector<fs::path> candidates;
    if (!importer.empty() && fs::path(importer).has_parent_path()) {
      candidates.push_back(fs::path(importer).parent_path() / name);
    } else {
      candidates.push_back(fs::path(name));
    }
    for (const std::string& d : dirs_) candidates.push_back(fs::path(d) / name);
    for (const fs::path& c : candidates) {
      std::string text;
      if (fs::is_regular_file(c) && ReadFile(c, text)) {
        Load(fs::weakly_canonical(c).string(), c.string(), std::move(text), false);
        return;
      }
    }
    if (auto bundled = BundledIdl(name)) {
      Load("<bundled>/" + name, name, std::string(*bundled), true);
      return;
    }
    diags_.Error(item.loc, "cannot find imported file '" + name + "'");
  }

  const std::vector<std::string>& dirs_;
  Diagnostics& diags_;
  Program& program_;
  std::map<std::string, File*> loaded_;
  std::vector<std::string> texts_;  // kept alive: tokens refer to them
};

}  // namespace

bool LoadProgram(const std::string& path, const std::vector<std::string>& include_dirs,
                 Diagnostics& diags, Program& program) {
  std::string text;
  if (!ReadFile(path, text)) return false;
  Loader loader(include_dirs, diags, program);
  program.main = loader.Load(fs::weakly_canonical(path).string(), path, std::move(text), false);
  return true;
}

}  // namespace comsec::comidl
