#include "comsec/auth/ntlm/local_logon_validator.h"

#include <algorithm>

#include "comsec/auth/ntlm/messages.h"
#include "comsec/auth/ntlm/ntlmv2.h"
#include "comsec/base/log_escape.h"
#include "comsec/base/utf16.h"

namespace comsec::auth::ntlm {
namespace {

Status Denied(std::string why) { return Status(SEC_E_LOGON_DENIED, std::move(why)); }

bool ContainsName(const std::vector<std::string>& names, std::string_view name) {
  return std::any_of(names.begin(), names.end(), [&](const std::string& n) {
    return !n.empty() && AccountNamesEqual(n, name);
  });
}

std::string Minutes(std::chrono::minutes m) {
  return std::to_string(m.count()) + (m.count() == 1 ? " minute" : " minutes");
}

// An event about the logon of `principal` (as the client named it) from
// `peer` (as the server reported it; empty: not known).
LogEvent Event(std::string name, LogSeverity severity, std::string message,
               const std::string& principal, const std::string& peer) {
  LogEvent e(std::move(name), severity, std::move(message));
  if (!peer.empty()) e.Peer(peer);
  e.Principal(principal);
  return e;
}

}  // namespace

LocalLogonValidator::LocalLogonValidator(AccountSource* accounts, LogonPolicy policy,
                                         const Logger* logger, Clock clock)
    : accounts_(accounts), policy_(std::move(policy)), logger_(logger),
      clock_(std::move(clock)) {}

Result<std::string> LocalLogonValidator::DomainName() {
  if (!accounts_) return Status(SEC_E_NO_CREDENTIALS, "no account database");
  return accounts_->DomainName();
}

Result<NetworkLogonResult> LocalLogonValidator::ValidateNetworkLogon(
    const NetworkLogonRequest& request) {
  // Peer-supplied, as sent: the log sinks escape it.
  const std::string who =
      (request.domain.empty() ? std::string() : Utf16ToUtf8(request.domain) + "\\") +
      Utf16ToUtf8(request.user);
  auto result = Validate(request, who);
  if (!result.ok() && result.status().code() == SEC_E_LOGON_DENIED) {
    const std::string why(result.status().message());
    Log(Event("ntlm.validation_refused", LogSeverity::kWarning,
              "logon of '" + who + "' from " + request.peer + " refused: " + why, who,
              request.peer)
            .Reason(why)
            .Hresult(result.status().code()));
  }
  return result;
}

Result<NetworkLogonResult> LocalLogonValidator::Validate(const NetworkLogonRequest& request,
                                                         const std::string& who) {
  if (!accounts_) return Denied("this server has no account database");
  const bool v1 = request.nt_response.size() == 24;
  if (request.nt_response.empty()) {
    return Denied("an LM-only response was offered; LM is never accepted");
  }
  if (v1 && !policy_.allow_ntlmv1) {
    return Denied("an NTLMv1 response was offered; this machine accepts NTLMv2 only "
                  "(LmCompatibilityLevel 5)");
  }
  const std::string domain = accounts_->DomainName();
  const std::string sent_domain = Utf16ToUtf8(request.domain);
  const bool ours = sent_domain.empty() || sent_domain == "." ||
                    AccountNamesEqual(sent_domain, domain) ||
                    ContainsName(policy_.own_names, sent_domain);
  if (!ours && ContainsName(policy_.foreign_domains, sent_domain)) {
    return Denied("domain '" + EscapeForLog(Utf16ToUtf8(request.domain)) +
                  "' is a foreign domain (listed in Lsa ForeignDomains) whose accounts "
                  "this machine cannot validate");
  }
  COMSEC_ASSIGN_OR_RETURN(auto record, accounts_->Lookup(Utf16ToUtf8(request.user)));
  if (!record) return Denied("unknown user");
  COMSEC_ASSIGN_OR_RETURN(const std::string account_key, UpcaseAccountName(record->name));
  COMSEC_RETURN_IF_ERROR(CheckNotLockedOut(account_key));

  NetworkLogonResult result;
  if (v1) {
    // [MS-NLMP] 3.3.1 with extended session security: DESL(NT hash,
    // MD5(ServerChallenge || ClientChallenge)[0..7]), the client challenge
    // in the LM response's first 8 bytes.
    if (request.lm_response.size() != 24) {
      return Denied("an NTLMv1 response without the 24-byte LM field that carries "
                    "the client challenge");
    }
    const std::span<const uint8_t> client_challenge(request.lm_response.data(), 8);
    const Digest16 mixed = Md5({request.server_challenge, client_challenge});
    const auto expected =
        Desl(record->nt_hash, std::span<const uint8_t, 8>(mixed.data(), 8));
    if (!SecretEquals(expected, request.nt_response)) {
      RecordFailure(account_key, who, request.peer);
      return Denied("wrong password (the NTLMv1 response does not match the account's hash)");
    }
    const Digest16 session_base_key = Md4(record->nt_hash);
    result.key_exchange_key =
        HmacMd5(session_base_key, {request.server_challenge, client_challenge});
    result.ntlmv1 = true;
  } else {
    COMSEC_ASSIGN_OR_RETURN(ParsedNtlmV2Response v2, ParseNtlmV2Response(request.nt_response));
    const Digest16 key = NtOwfV2(record->nt_hash, request.user, request.domain);
    const Digest16 proof = HmacMd5(key, {request.server_challenge, v2.blob});
    if (!SecretEquals(proof, v2.nt_proof)) {
      RecordFailure(account_key, who, request.peer);
      return Denied("wrong password (the NTLMv2 proof does not match the account's hash)");
    }
    // The blob's timestamp is not checked: freshness comes from the
    // server's one-time challenge.
    result.key_exchange_key = HmacMd5(key, {v2.nt_proof});  // SessionBaseKey
  }
  // Windows checks the account's restrictions once the password is proven.
  if (record->disabled) return Denied("the account is disabled");
  RecordSuccess(account_key);
  if (!ours) {
    Log(Event("ntlm.foreign_domain_mapped", LogSeverity::kNotice,
              "logon of '" + who + "' from " + request.peer + ": domain '" + sent_domain +
                  "' is not this machine's (" + domain +
                  "); validated against its local accounts, as a standalone Windows "
                  "machine does",
              who, request.peer)
            .Extra("domain", sent_domain));
  }
  if (result.ntlmv1) {
    const std::string account = domain + "\\" + record->name;
    Log(Event("ntlm.ntlmv1_validated", LogSeverity::kWarning,
              "WEAK: accepted an NTLMv1 logon of " + account + " from " + request.peer +
                  " because NTLMv1 is allowed (LmCompatibilityLevel below 5); set it to 5 "
                  "to refuse NTLMv1",
              account, request.peer)
            .Reason("NTLMv1 is allowed (LmCompatibilityLevel below 5)"));
  }
  result.domain = domain;
  result.account_name = record->name;
  result.user_sid = record->user_sid;
  result.group_sids = record->group_sids;
  result.unix_identity = record->unix_identity;
  return result;
}

Status LocalLogonValidator::CheckNotLockedOut(const std::string& account_key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bad_logons_.find(account_key);
  if (it == bad_logons_.end()) return Status::Ok();
  BadLogons& b = it->second;
  if (b.locked_indefinitely) {
    return Denied("the account is locked out (" + std::to_string(b.count) +
                  " failed logons; LockoutDuration 0 keeps it locked until comsecd restarts)");
  }
  if (b.locked_until) {
    const auto now = Now();
    if (now < *b.locked_until) {
      const auto left = std::chrono::ceil<std::chrono::minutes>(*b.locked_until - now);
      return Denied("the account is locked out after " + std::to_string(b.count) +
                    " failed logons, for " + Minutes(left) + " more (LockoutDuration)");
    }
    bad_logons_.erase(it);  // the lockout has run out: a fresh start
  }
  return Status::Ok();
}

void LocalLogonValidator::RecordFailure(const std::string& account_key, const std::string& who,
                                        const std::string& peer) {
  const LockoutPolicy& p = policy_.lockout;
  if (p.threshold == 0) return;
  std::lock_guard<std::mutex> lock(mu_);
  const auto now = Now();
  BadLogons& b = bad_logons_[account_key];
  if (b.count > 0 && now - b.last_failure >= p.reset_window) b.count = 0;
  ++b.count;
  b.last_failure = now;
  if (b.count >= p.threshold && !b.locked_until && !b.locked_indefinitely) {
    if (p.duration.count() == 0) {
      b.locked_indefinitely = true;
    } else {
      b.locked_until = now + p.duration;
    }
    Log(Event("ntlm.account_locked_out", LogSeverity::kWarning,
              "account '" + who + "' locked out after " + std::to_string(b.count) +
                  " failed logons within " + Minutes(p.reset_window) + " (the last from " +
                  peer + "); " +
                  (p.duration.count() == 0
                       ? std::string("it stays locked until comsecd restarts")
                       : "it unlocks in " + Minutes(p.duration)) +
                  " (LockoutBadCount " + std::to_string(p.threshold) + ")",
              who, peer)
            .Reason("LockoutBadCount " + std::to_string(p.threshold) + " reached")
            .Extra("failed_logons", std::to_string(b.count))
            .Extra("lockout_minutes", std::to_string(p.duration.count())));
  }
}

void LocalLogonValidator::RecordSuccess(const std::string& account_key) {
  std::lock_guard<std::mutex> lock(mu_);
  bad_logons_.erase(account_key);
}

}  // namespace comsec::auth::ntlm
