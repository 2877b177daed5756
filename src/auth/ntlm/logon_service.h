// comsecd's logon service: the one process that may read the secrets file
// validates NTLM logons for servers that may not (issue 9, item 2), as
// Windows servers go through LSASS and Samba's through winbindd.
//
// A server sends the challenge it issued and the client's responses (never
// a password or hash) over ncalrpc; comsecd answers with the key exchange
// key and the caller's account and SIDs, or with SEC_E_LOGON_DENIED and the
// reason for the server's log. Only callers comsecd trusts may ask, proven
// by the kernel (SO_PEERCRED): root, comsecd's own user, and the uids it is
// told to trust. Anyone else is refused with access denied (fault 5) and
// one log event, since a process that could ask could test passwords and
// obtain session keys of other people's connections.
//
// The interface (hand-written NDR; comsec's own, not a Windows one):
//   [uuid(6627c7a8-055b-4a4b-8350-4cbd7f96fa08), version(1.0), pointer_default(unique)]
//   interface IComsecLogon {
//     HRESULT QueryDomain([out, string] char** domain);                      // opnum 0
//     HRESULT NetworkLogon([in] byte challenge[8],                           // opnum 1
//         [in, string] wchar_t* user, [in, string] wchar_t* domain,
//         [in] unsigned long nt_length, [in, size_is(nt_length)] byte* nt_response,
//         [in] unsigned long lm_length, [in, size_is(lm_length)] byte* lm_response,
//         [in, string] char* peer,
//         [out] byte key_exchange_key[16],
//         [out, string] char** account_domain, [out, string] char** account,
//         [out] unsigned long* sids_length,
//         [out, size_is(, *sids_length)] byte** sids,   // user SID, then groups (binary)
//         [out] unsigned long* unix_length,              // 0: no Unix mapping
//         [out, size_is(, *unix_length)] unsigned long** unix_ids,  // uid, gid, groups
//         [out] long* ntlmv1, [out, string] char** reason);
//   }
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <functional>
#include <vector>

#include "comsec/auth/ntlm/logon_validator.h"
#include "comsec/base/log.h"
#include "comsec/rpc/binding.h"
#include "comsec/rpc/interface.h"

namespace comsec::auth::ntlm {

rpc::SyntaxId LogonServiceSyntax();

struct LogonServiceOptions {
  LogonValidator* validator = nullptr;  // required; must outlive the service
  // Trusted besides root and the serving process's own effective uid.
  std::vector<uint32_t> trusted_uids;
  // Also trusted: a process this returns true for (its pid and uid, as the
  // kernel names them) — the servers comsecd's SCM launched itself, whose
  // identity it chose. Null: none. Called from the serving threads.
  std::function<bool(uint32_t pid, uint32_t uid)> trusted_process;
  // Gets an ntlm.logon_service_refused event (warning: peer, interface,
  // opnum, HRESULT, extras uid and pid on ncalrpc) for each caller refused.
  // Null: none. Must outlive the interface.
  const Logger* logger = nullptr;
};

// The interface comsecd registers (on its ncalrpc endpoint only: a TCP
// caller has no kernel-proven uid and is always refused).
rpc::InterfaceRegistration LogonServiceInterface(LogonServiceOptions options);

// A LogonValidator that asks comsecd. One short ncalrpc connection per
// logon, so it is safe from any number of threads.
//
// Thread-safety: safe from many threads at once.
class RemoteLogonValidator : public LogonValidator {
 public:
  explicit RemoteLogonValidator(rpc::StringBinding comsecd);

  // Asked once and remembered (a machine's domain name does not change
  // while it runs; a domain created later is picked up on the next call).
  Result<std::string> DomainName() override;
  Result<NetworkLogonResult> ValidateNetworkLogon(const NetworkLogonRequest& request) override;

 private:
  Result<std::vector<uint8_t>> Call(uint16_t opnum, std::span<const uint8_t> stub);

  const rpc::StringBinding comsecd_;
  std::mutex mu_;
  std::optional<std::string> domain_;
};

// The NetworkLogon stubs, exposed for tests and the fuzzer. Decoding a
// reply checks every count against the bytes; a refusal is its HRESULT.
std::vector<uint8_t> EncodeNetworkLogonRequest(const NetworkLogonRequest& request);
Result<NetworkLogonResult> DecodeNetworkLogonReply(std::span<const uint8_t> reply);

}  // namespace comsec::auth::ntlm
