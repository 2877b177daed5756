// Strings a peer chose (user, domain and workstation names, annotations)
// go into log lines escaped, so that a name holding a newline or a
// terminal escape cannot forge a line such as "ntlm: WEAK: …" or rewrite
// the operator's screen (issue 9, item 8).
#pragma once

#include <string>
#include <string_view>

namespace comsec {

// Control characters (below 0x20, and 0x7f), backslash, and bytes that are
// not valid UTF-8 become \xNN; everything else (printable ASCII and valid
// UTF-8) is kept as is, so names in other scripts stay readable.
std::string EscapeForLog(std::string_view peer_supplied);

}  // namespace comsec
