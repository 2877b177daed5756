// The base IDL files comidl bundles, named as Windows's are, so that a
// user's `import "unknwn.idl";` or `import "oaidl.idl";` works without -I:
// wtypes.idl (Windows base types: DWORD, HRESULT, GUID, REFIID, LPWSTR,
// FILETIME…), unknwn.idl (IUnknown, IClassFactory), objidl.idl and
// oaidl.idl (subsets: IDispatch's four methods take opnums 3-6; VARIANT,
// BSTR and type libraries come with OLE Automation).
#pragma once

#include <optional>
#include <string_view>

namespace comsec::comidl {

// The text of a bundled file by its import name, or nullopt.
std::optional<std::string_view> BundledIdl(std::string_view name);

}  // namespace comsec::comidl
