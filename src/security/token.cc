#include "comsec/security/token.h"

#include "comsec/security/sddl.h"
#include "comsec/security/unix_identity.h"
#include "comsec/security/well_known_sids.h"

namespace comsec::security {

Token::Token(Sid user, LogonKind logon) : user_(user), logon_(logon) {
  fingerprints_.push_back(user_.fingerprint());
}

Token Token::ForAuthenticatedUser(Sid user, std::span<const Sid> groups,
                                  LogonKind logon) {
  Token t(user, logon);
  for (const Sid& g : groups) t.AddGroup(g);
  t.AddGroup(well_known::Everyone());
  t.AddGroup(well_known::AuthenticatedUsers());
  t.AddGroup(well_known::BuiltinUsers());
  if (logon == LogonKind::kLocal) {
    t.AddGroup(well_known::Interactive());
    t.AddGroup(well_known::Local());
  } else {
    t.AddGroup(well_known::Network());
  }
  return t;
}

Token Token::Anonymous(LogonKind logon, bool everyone_includes_anonymous) {
  Token t(well_known::Anonymous(), logon);
  if (everyone_includes_anonymous) t.AddGroup(well_known::Everyone());
  return t;
}

void Token::AddGroup(const Sid& sid, uint32_t attributes) {
  for (SidAndAttributes& g : groups_) {
    if (g.sid == sid) {
      g.attributes |= attributes;
      // Enabled wins over deny-only when both memberships are claimed.
      if (g.attributes & SE_GROUP_ENABLED) {
        g.attributes &= ~SE_GROUP_USE_FOR_DENY_ONLY;
      }
      return;
    }
  }
  groups_.push_back({sid, attributes});
  fingerprints_.push_back(sid.fingerprint());
}

void Token::SetUnixIdentity(const UnixIdentity& identity) {
  unix_identity_ = std::make_shared<const UnixIdentity>(identity);
}

bool Token::IsAnonymous() const { return user_ == well_known::Anonymous(); }

SidMatch Token::MatchSlow(const Sid& sid, size_t from) const {
  SidMatch best = SidMatch::kNone;
  for (size_t i = from; i < fingerprints_.size(); ++i) {
    if (fingerprints_[i] != sid.fingerprint()) continue;
    if (i == 0) {
      if (user_ == sid) return SidMatch::kEnabled;
      continue;
    }
    const SidAndAttributes& g = groups_[i - 1];
    if (!(g.sid == sid)) continue;
    if (g.attributes & SE_GROUP_USE_FOR_DENY_ONLY) {
      best = SidMatch::kDenyOnly;
    } else if (g.attributes & SE_GROUP_ENABLED) {
      return SidMatch::kEnabled;
    }
  }
  return best;
}

std::string Token::Describe() const {
  std::string out = FormatSddlSid(user_);
  out += logon_ == LogonKind::kLocal ? " (local; groups:" : " (network; groups:";
  for (const SidAndAttributes& g : groups_) {
    out += ' ';
    out += FormatSddlSid(g.sid);
    if (g.attributes & SE_GROUP_USE_FOR_DENY_ONLY) {
      out += "[deny-only]";
    } else if (!(g.attributes & SE_GROUP_ENABLED)) {
      out += "[disabled]";
    }
  }
  // A mapping is worth saying when the SID does not say it already.
  if (unix_identity_ && UnixUidOf(user_) != unix_identity_->uid) {
    out += "; acts as uid " + std::to_string(unix_identity_->uid) + " gids";
    for (size_t i = 0; i < unix_identity_->gids.size(); ++i) {
      out += (i ? "," : " ") + std::to_string(unix_identity_->gids[i]);
    }
  }
  out += ')';
  return out;
}

}  // namespace comsec::security
