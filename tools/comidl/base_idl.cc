#include "comidl/base_idl.h"

namespace comsec::comidl {
namespace {

// GUID is the builtin __comidl_guid: NDR's UUID, comsec::Guid in C++.
constexpr std::string_view kWtypes = R"IDL(
typedef byte BYTE;
typedef unsigned char UCHAR;
typedef char CHAR;
typedef wchar_t WCHAR;
typedef WCHAR OLECHAR;
typedef short SHORT;
typedef unsigned short USHORT;
typedef unsigned short WORD;
typedef long LONG;
typedef unsigned long ULONG;
typedef unsigned long DWORD;
typedef int INT;
typedef unsigned int UINT;
typedef long BOOL;
typedef boolean BOOLEAN;
typedef hyper LONGLONG;
typedef unsigned hyper ULONGLONG;
typedef unsigned hyper DWORDLONG;
typedef hyper INT64;
typedef unsigned hyper UINT64;
typedef float FLOAT;
typedef double DOUBLE;
typedef long HRESULT;
typedef long SCODE;
typedef unsigned long LCID;
typedef __comidl_guid GUID;
typedef GUID UUID;
typedef GUID IID;
typedef GUID CLSID;
typedef GUID* REFGUID;
typedef IID* REFIID;
typedef CLSID* REFCLSID;
typedef [string] wchar_t* LPWSTR;
typedef [string] char* LPSTR;
typedef [string] OLECHAR* LPOLESTR;
typedef [string] const wchar_t* LPCWSTR;
typedef [string] const char* LPCSTR;
typedef [string] const OLECHAR* LPCOLESTR;
typedef struct _FILETIME {
  DWORD dwLowDateTime;
  DWORD dwHighDateTime;
} FILETIME;
)IDL";

constexpr std::string_view kUnknwn = R"IDL(
import "wtypes.idl";

[local, object, uuid(00000000-0000-0000-C000-000000000046), pointer_default(unique)]
interface IUnknown {
  HRESULT QueryInterface([in] REFIID riid, [out, iid_is(riid)] void** ppvObject);
  ULONG AddRef();
  ULONG Release();
}

[object, uuid(00000001-0000-0000-C000-000000000046), pointer_default(unique)]
interface IClassFactory : IUnknown {
  [local] HRESULT CreateInstance([in, unique] IUnknown* pUnkOuter, [in] REFIID riid,
                                 [out, iid_is(riid)] void** ppvObject);
  [call_as(CreateInstance)] HRESULT RemoteCreateInstance(
      [in] REFIID riid, [out, iid_is(riid)] IUnknown** ppvObject);
  [local] HRESULT LockServer([in] BOOL fLock);
  [call_as(LockServer)] HRESULT RemoteLockServer([in] BOOL fLock);
}
)IDL";

constexpr std::string_view kObjidl = R"IDL(
import "unknwn.idl";
)IDL";

// ITypeInfo is declared without methods only so that GetTypeInfo can name
// it; its methods come with OLE Automation.
constexpr std::string_view kOaidl = R"IDL(
import "objidl.idl";

typedef long DISPID;

[object, uuid(00020401-0000-0000-C000-000000000046), pointer_default(unique)]
interface ITypeInfo : IUnknown {
}

[object, uuid(00020400-0000-0000-C000-000000000046), pointer_default(unique)]
interface IDispatch : IUnknown {
  HRESULT GetTypeInfoCount([out] UINT* pctinfo);
  HRESULT GetTypeInfo([in] UINT iTInfo, [in] LCID lcid, [out] ITypeInfo** ppTInfo);
  HRESULT GetIDsOfNames([in] REFIID riid, [in, size_is(cNames)] LPOLESTR* rgszNames,
                        [in, range(0, 16384)] UINT cNames, [in] LCID lcid,
                        [out, size_is(cNames)] DISPID* rgDispId);
  [local] HRESULT Invoke([in] DISPID dispIdMember, [in] REFIID riid, [in] LCID lcid,
                         [in] WORD wFlags, [in] void* pDispParams, [out] void* pVarResult,
                         [out] void* pExcepInfo, [out] UINT* puArgErr);
}
)IDL";

}  // namespace

std::optional<std::string_view> BundledIdl(std::string_view name) {
  if (name == "wtypes.idl") return kWtypes;
  if (name == "unknwn.idl") return kUnknwn;
  if (name == "objidl.idl") return kObjidl;
  if (name == "oaidl.idl") return kOaidl;
  return std::nullopt;
}

}  // namespace comsec::comidl
