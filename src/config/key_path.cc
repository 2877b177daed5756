#include "comsec/config/key_path.h"

#include "comsec/base/utf16.h"

namespace comsec::config {

std::string FoldCase(std::string_view name) {
  // Windows's upper case, then ASCII back to lower case: the same
  // equivalence as the upper case alone (no character upcases into or out
  // of ASCII), in the form schema 1 stored ASCII names, so their folded
  // column and their order stay as they were.
  std::string out = UpcaseUtf8(name);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Result<KeyPath> KeyPath::Parse(std::string_view text) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == '\\') {
      parts.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() > 1 && parts.back().empty()) parts.pop_back();
  if (parts.empty() || parts[0].empty()) {
    return Status(E_INVALIDARG, "key path \"" + std::string(text) +
                                    "\" has no root; start it with "
                                    "HKEY_LOCAL_MACHINE or HKEY_CLASSES_ROOT");
  }
  KeyPath path;
  std::string root = FoldCase(parts[0]);
  if (root == "hkey_classes_root" || root == "hkcr") {
    path.components = {"SOFTWARE", "Classes"};
  } else if (root != "hkey_local_machine" && root != "hklm") {
    return Status(E_INVALIDARG,
                  "key path \"" + std::string(text) + "\": root \"" +
                      std::string(parts[0]) +
                      "\" is not supported; comsec keeps HKEY_LOCAL_MACHINE "
                      "and its HKEY_CLASSES_ROOT view");
  }
  for (size_t i = 1; i < parts.size(); ++i) {
    if (parts[i].empty()) {
      return Status(E_INVALIDARG, "key path \"" + std::string(text) +
                                      "\" has an empty component");
    }
    if (parts[i].size() > kMaxKeyNameLength) {
      return Status(E_INVALIDARG, "key path \"" + std::string(text) +
                                      "\": a key name exceeds 255 characters");
    }
    path.components.emplace_back(parts[i]);
  }
  if (path.components.size() > kMaxKeyDepth) {
    return Status(E_INVALIDARG, "key path is deeper than 512 levels");
  }
  return path;
}

std::string KeyPath::ToString() const {
  std::string out(kHklm);
  for (const std::string& c : components) {
    out += '\\';
    out += c;
  }
  return out;
}

KeyPath KeyPath::Child(std::string_view name) const {
  KeyPath p = *this;
  p.components.emplace_back(name);
  return p;
}

}  // namespace comsec::config
