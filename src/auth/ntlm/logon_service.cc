#include "comsec/auth/ntlm/logon_service.h"

#include <unistd.h>

#include <algorithm>

#include "comsec/base/byte_reader.h"
#include "comsec/base/byte_writer.h"
#include "comsec/base/log_escape.h"
#include "comsec/config/accounts.h"
#include "comsec/ndr/decoder.h"
#include "comsec/ndr/encoder.h"
#include "comsec/rpc/client.h"

namespace comsec::auth::ntlm {
namespace {

constexpr uint16_t kOpQueryDomain = 0;
constexpr uint16_t kOpNetworkLogon = 1;

// Far above any real response ([MS-NLMP]: an NTLMv2 response is the proof,
// a 28-byte header and the target info, which servers keep small); caps
// what one request may make comsecd handle.
constexpr uint32_t kMaxResponseBytes = 4096;
constexpr size_t kMaxNameChars = 256;
// A uid and the gids of a mapped account (config::kMaxUnixMappingGroups
// supplementary groups, the primary one, the uid).
constexpr uint32_t kMaxUnixIds = config::kMaxUnixMappingGroups + 2;

using Reply = Result<std::vector<uint8_t>>;

Result<std::span<const uint8_t>> ReadSizedBytes(ndr::Decoder& d, const char* what) {
  COMSEC_ASSIGN_OR_RETURN(uint32_t n, d.U32());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  if (max_count != n) {
    return d.Error(std::string(what) + ": size_is(" + std::to_string(n) + ") but max_count " +
                   std::to_string(max_count));
  }
  if (n > kMaxResponseBytes) {
    return d.Error(std::string(what) + " of " + std::to_string(n) + " bytes is too long");
  }
  return d.Bytes(n);
}

void WriteSizedBytes(ndr::Encoder& e, std::span<const uint8_t> bytes) {
  e.U32(static_cast<uint32_t>(bytes.size()));
  e.Conformance(static_cast<uint32_t>(bytes.size()));
  e.Bytes(bytes);
}

Status CheckName(const std::u16string& s, const char* what, const ndr::Decoder& d) {
  if (s.size() > kMaxNameChars) return d.Error(std::string(what) + " is too long");
  return Status();
}

bool Trusted(const LogonServiceOptions& o, const rpc::CallContext& call) {
  if (!call.has_peer) return false;  // TCP: no kernel-proven identity
  if (call.peer_uid == 0 || call.peer_uid == geteuid()) return true;
  if (o.trusted_process && o.trusted_process(call.peer_pid, call.peer_uid)) return true;
  return std::find(o.trusted_uids.begin(), o.trusted_uids.end(), call.peer_uid) !=
         o.trusted_uids.end();
}

Reply QueryDomain(LogonValidator& v, std::span<const uint8_t> stub,
                  ndr::DataRep rep) {
  ndr::Decoder d(stub, rep);
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  auto domain = v.DomainName();
  ndr::Encoder e;
  e.Pointer(true);
  e.CString(domain.ok() ? *domain : "");
  e.U32(domain.ok() ? S_OK.value() : domain.status().code().value());
  return std::move(e).Take();
}

Reply NetworkLogon(LogonValidator& v, std::span<const uint8_t> stub,
                   ndr::DataRep rep) {
  ndr::Decoder d(stub, rep);
  NetworkLogonRequest request;
  COMSEC_ASSIGN_OR_RETURN(auto challenge, d.Bytes(8));
  std::copy(challenge.begin(), challenge.end(), request.server_challenge.begin());
  COMSEC_ASSIGN_OR_RETURN(request.user, d.WString());
  COMSEC_RETURN_IF_ERROR(CheckName(request.user, "user", d));
  COMSEC_ASSIGN_OR_RETURN(request.domain, d.WString());
  COMSEC_RETURN_IF_ERROR(CheckName(request.domain, "domain", d));
  COMSEC_ASSIGN_OR_RETURN(auto nt, ReadSizedBytes(d, "nt_response"));
  request.nt_response.assign(nt.begin(), nt.end());
  COMSEC_ASSIGN_OR_RETURN(auto lm, ReadSizedBytes(d, "lm_response"));
  request.lm_response.assign(lm.begin(), lm.end());
  COMSEC_ASSIGN_OR_RETURN(request.peer, d.CString());
  if (request.peer.size() > kMaxNameChars) return d.Error("peer is too long");
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());

  auto result = v.ValidateNetworkLogon(request);
  NetworkLogonResult empty;
  const NetworkLogonResult& r = result.ok() ? *result : empty;
  ByteWriter sids;
  if (result.ok()) {
    r.user_sid.EncodeTo(sids);
    for (const security::Sid& g : r.group_sids) g.EncodeTo(sids);
  }
  ndr::Encoder e;
  e.Bytes(r.key_exchange_key);
  e.Pointer(true);
  e.CString(r.domain);
  e.Pointer(true);
  e.CString(r.account_name);
  e.U32(static_cast<uint32_t>(sids.size()));
  e.Pointer(true);
  e.Conformance(static_cast<uint32_t>(sids.size()));
  e.Bytes(sids.bytes());
  std::vector<uint32_t> unix_ids;
  if (result.ok() && r.unix_identity) {
    unix_ids.push_back(r.unix_identity->uid);
    unix_ids.insert(unix_ids.end(), r.unix_identity->gids.begin(), r.unix_identity->gids.end());
  }
  e.U32(static_cast<uint32_t>(unix_ids.size()));
  e.Pointer(true);
  e.Conformance(static_cast<uint32_t>(unix_ids.size()));
  for (uint32_t id : unix_ids) e.U32(id);
  e.I32(r.ntlmv1 ? 1 : 0);
  e.Pointer(true);
  e.CString(result.ok() ? "" : std::string(result.status().message()));
  e.U32(result.ok() ? S_OK.value() : result.status().code().value());
  return std::move(e).Take();
}

}  // namespace

rpc::SyntaxId LogonServiceSyntax() {
  return {*Guid::Parse("6627c7a8-055b-4a4b-8350-4cbd7f96fa08"), 1, 0};
}

rpc::InterfaceRegistration LogonServiceInterface(LogonServiceOptions options) {
  auto o = std::make_shared<LogonServiceOptions>(std::move(options));
  rpc::InterfaceRegistration r;
  r.syntax = LogonServiceSyntax();
  r.security_callback = [o](const rpc::CallContext& call) -> Status {
    if (Trusted(*o, call)) return Status();
    const std::string who = call.has_peer ? "uid " + std::to_string(call.peer_uid) +
                                                " (pid " + std::to_string(call.peer_pid) + ")"
                                          : "a TCP caller";
    if (o->logger) {
      const std::string why =
          "only root, comsecd's own user and the uids given with --trust-uid may validate "
          "logons";
      LogEvent e("ntlm.logon_service_refused", LogSeverity::kWarning,
                 "logon service: refused " + who + ": " + why);
      if (!call.peer.empty()) e.Peer(call.peer);
      e.Interface(call.interface.uuid, call.interface.major, call.interface.minor)
          .Opnum(call.opnum)
          .Reason(call.has_peer ? why : "a TCP caller has no kernel-proven uid")
          .Hresult(E_ACCESSDENIED);
      if (call.has_peer) {
        e.Extra("uid", std::to_string(call.peer_uid)).Extra("pid", std::to_string(call.peer_pid));
      }
      o->logger->Log(e);
    }
    return Status(E_ACCESSDENIED, who + " may not use the logon service");
  };
  r.operations = {
      [o](std::span<const uint8_t> stub, const rpc::CallContext& call) {
        return QueryDomain(*o->validator, stub, call.data_rep);
      },
      [o](std::span<const uint8_t> stub, const rpc::CallContext& call) {
        return NetworkLogon(*o->validator, stub, call.data_rep);
      },
  };
  return r;
}

// ==== Client ================================================================

RemoteLogonValidator::RemoteLogonValidator(rpc::StringBinding comsecd)
    : comsecd_(std::move(comsecd)) {}

Result<std::vector<uint8_t>> RemoteLogonValidator::Call(uint16_t opnum,
                                                        std::span<const uint8_t> stub) {
  auto fail = [&](const Status& s) {
    return Status(s.code(), "comsecd's logon service at " + comsecd_.ToString() + ": " +
                                std::string(s.message()));
  };
  auto client = rpc::Client::Connect(comsecd_);
  if (!client.ok()) return fail(client.status());
  if (Status s = (*client)->Bind(LogonServiceSyntax()); !s.ok()) return fail(s);
  auto reply = (*client)->Call(opnum, stub);
  if (!reply.ok()) return fail(reply.status());
  return reply;
}

Result<std::string> RemoteLogonValidator::DomainName() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (domain_) return *domain_;
  }
  COMSEC_ASSIGN_OR_RETURN(auto reply, Call(kOpQueryDomain, {}));
  ndr::Decoder d(reply);
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(std::string domain, d.CString());
  COMSEC_ASSIGN_OR_RETURN(uint32_t hr, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  if (hr != S_OK.value()) return Status(HResult(hr), "comsecd has no machine domain yet");
  std::lock_guard<std::mutex> lock(mu_);
  domain_ = domain;
  return domain;
}

Result<NetworkLogonResult> RemoteLogonValidator::ValidateNetworkLogon(
    const NetworkLogonRequest& request) {
  const std::vector<uint8_t> stub = EncodeNetworkLogonRequest(request);
  COMSEC_ASSIGN_OR_RETURN(auto reply, Call(kOpNetworkLogon, stub));
  return DecodeNetworkLogonReply(reply);
}

std::vector<uint8_t> EncodeNetworkLogonRequest(const NetworkLogonRequest& request) {
  ndr::Encoder e;
  e.Bytes(request.server_challenge);
  e.WString(request.user);
  e.WString(request.domain);
  WriteSizedBytes(e, request.nt_response);
  WriteSizedBytes(e, request.lm_response);
  e.CString(request.peer);
  return std::move(e).Take();
}

Result<NetworkLogonResult> DecodeNetworkLogonReply(std::span<const uint8_t> reply) {
  ndr::Decoder d(reply);
  NetworkLogonResult r;
  COMSEC_ASSIGN_OR_RETURN(auto key, d.Bytes(16));
  std::copy(key.begin(), key.end(), r.key_exchange_key.begin());
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(r.domain, d.CString());
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(r.account_name, d.CString());
  COMSEC_ASSIGN_OR_RETURN(uint32_t sids_length, d.U32());
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(uint32_t max_count, d.Conformance(1));
  if (max_count != sids_length) return d.Error("sids: size_is does not match max_count");
  COMSEC_ASSIGN_OR_RETURN(auto sid_bytes, d.Bytes(max_count));
  COMSEC_ASSIGN_OR_RETURN(uint32_t unix_length, d.U32());
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(uint32_t unix_count, d.Conformance(4));
  if (unix_count != unix_length) return d.Error("unix_ids: size_is does not match max_count");
  if (unix_count == 1 || unix_count > kMaxUnixIds) {
    return d.Error("unix_ids: " + std::to_string(unix_count) +
                   " ids is not a uid with 1 to " + std::to_string(kMaxUnixIds - 1) + " gids");
  }
  std::vector<uint32_t> unix_ids(unix_count);
  for (uint32_t& id : unix_ids) {
    COMSEC_ASSIGN_OR_RETURN(id, d.U32());
  }
  COMSEC_ASSIGN_OR_RETURN(int32_t ntlmv1, d.I32());
  COMSEC_RETURN_IF_ERROR(d.UniquePointer().status());
  COMSEC_ASSIGN_OR_RETURN(std::string reason, d.CString());
  COMSEC_ASSIGN_OR_RETURN(uint32_t hr, d.U32());
  COMSEC_RETURN_IF_ERROR(d.ExpectEnd());
  if (hr != S_OK.value()) {
    if (!HResult(hr).Failed()) {
      return d.Error("a refusal with a success status");
    }
    return Status(HResult(hr), "comsecd: " + (reason.empty() ? std::string("logon refused")
                                                            : EscapeForLog(reason)));
  }
  ByteReader sids(sid_bytes, "logon SIDs");
  COMSEC_ASSIGN_OR_RETURN(r.user_sid, security::Sid::Decode(sids));
  while (sids.remaining() > 0) {
    COMSEC_ASSIGN_OR_RETURN(security::Sid g, security::Sid::Decode(sids));
    r.group_sids.push_back(g);
  }
  if (!unix_ids.empty()) {
    // Re-checks config::ResolveUnixMapping's refusal: comsecd never maps
    // an account to root, and a server does not take its word that it did.
    if (unix_ids[0] == 0) return d.Error("unix_ids: an account mapped to uid 0");
    security::UnixIdentity id;
    id.uid = unix_ids[0];
    id.gids.assign(unix_ids.begin() + 1, unix_ids.end());
    id.group_names.assign(id.gids.size(), "");
    r.unix_identity = std::move(id);
  }
  r.ntlmv1 = ntlmv1 != 0;
  return r;
}

}  // namespace comsec::auth::ntlm
