// The C++ generator of comidl. For FILE.idl it writes FILE.h and FILE.cc,
// everything in namespace comsec::idl (IDL's names are global, so one file
// refers to another's types unqualified, as in MIDL's C):
//  * types: enums (unscoped, fixed underlying type: enumerators stay global
//    names), structs with defaulted ==, unions as tagged structs (the
//    discriminant, then one member per arm), constants, typedefs as aliases;
//  * NDR20 for every struct and union: Encode/Decode (whole value) and the
//    two phases pidl and MIDL use — scalars (the flat part, pointers as
//    referent ids) and buffers (embedded referents, depth first);
//  * per interface: an abstract class, a proxy (rpc::Client, or for
//    [object] interfaces rpc::ObjectChannel), and a server stub (an
//    rpc::InterfaceRegistration, or for [object] interfaces an Invoke
//    function the COM layer dispatches to).
// Imported user files become #include "NAME.h"; bundled base files are
// emitted inline in the header under an include guard of their own.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "comidl/program.h"
#include "comidl/sema.h"

namespace comsec::comidl {

// (file name, contents) pairs: FILE.h then FILE.cc.
using GeneratedFiles = std::vector<std::pair<std::string, std::string>>;

GeneratedFiles Generate(const Program& program, const Symbols& symbols);

}  // namespace comsec::comidl
