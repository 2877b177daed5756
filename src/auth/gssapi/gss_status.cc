#include "comsec/auth/gssapi/gss_status.h"

#include <gssapi/gssapi_krb5.h>
#include <krb5.h>

namespace comsec::auth::gssapi {
namespace {

// One kind of status's texts (a status may have several: MIT's
// gss_display_status continues with message_context).
std::string Texts(OM_uint32 status, int type, gss_OID mech) {
  std::string out;
  OM_uint32 minor = 0, context = 0;
  do {
    gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
    if (GSS_ERROR(gss_display_status(&minor, status, type, mech, &context, &text))) break;
    if (!out.empty()) out += "; ";
    out.append(static_cast<const char*>(text.value), text.length);
    gss_release_buffer(&minor, &text);
  } while (context != 0);
  return out;
}

// The SEC_E_* SSPI returns for the krb5 error under a GSS failure; the
// fallback when there is none closer. The mechglue passes the krb5
// mechanism's minor codes through unchanged (krb5_error_code values).
HResult ForMinor(OM_uint32 minor, HResult fallback) {
  switch (static_cast<krb5_error_code>(minor)) {
    case KRB5KDC_ERR_S_PRINCIPAL_UNKNOWN:
      return SEC_E_TARGET_UNKNOWN;
    case KRB5KRB_AP_ERR_SKEW:
      return SEC_E_TIME_SKEW;
    case KRB5_KDC_UNREACH:
    case KRB5_REALM_UNKNOWN:
      return SEC_E_NO_AUTHENTICATING_AUTHORITY;
    case KRB5_FCC_NOFILE:
    case KRB5_CC_NOTFOUND:
    case KRB5_KT_NOTFOUND:
    case KRB5_KT_KVNONOTFOUND:
    case KRB5_KT_END:
      return SEC_E_NO_CREDENTIALS;
    case KRB5KRB_AP_ERR_TKT_EXPIRED:
    case KRB5KDC_ERR_TGT_REVOKED:
      return SEC_E_CONTEXT_EXPIRED;
    case KRB5KRB_AP_ERR_BAD_INTEGRITY:
    case KRB5KRB_AP_ERR_BADKEYVER:
    case KRB5KRB_AP_ERR_NOKEY:
    case KRB5KRB_AP_ERR_MODIFIED:
    case KRB5KRB_AP_ERR_REPEAT:
      return SEC_E_LOGON_DENIED;
    default:
      return fallback;
  }
}

}  // namespace

std::string DescribeGssStatus(OM_uint32 major, OM_uint32 minor) {
  std::string text = Texts(major, GSS_C_GSS_CODE, GSS_C_NO_OID);
  if (minor != 0) {
    std::string mech = Texts(minor, GSS_C_MECH_CODE, const_cast<gss_OID>(gss_mech_krb5));
    if (!mech.empty()) text += ": " + mech;
  }
  return text;
}

Status GssFailure(HResult fallback, const std::string& what, OM_uint32 major, OM_uint32 minor) {
  HResult code = fallback;
  if (!GSS_ERROR(major)) {
    // Only supplementary bits (the routine and calling errors are clear).
    if (major & (GSS_S_DUPLICATE_TOKEN | GSS_S_OLD_TOKEN | GSS_S_UNSEQ_TOKEN | GSS_S_GAP_TOKEN)) {
      std::string which;
      if (major & GSS_S_DUPLICATE_TOKEN) which = "a replayed PDU (duplicate token)";
      else if (major & GSS_S_OLD_TOKEN) which = "a PDU older than the sequence window (old token)";
      else if (major & GSS_S_UNSEQ_TOKEN) which = "a PDU out of sequence (unsequenced token)";
      else which = "a PDU after a gap in the sequence (earlier PDUs missing)";
      return Status(SEC_E_OUT_OF_SEQUENCE, what + ": " + which);
    }
    return Status(fallback, what + ": unexpected GSSAPI status " + std::to_string(major));
  }
  switch (GSS_ROUTINE_ERROR(major)) {
    case GSS_S_BAD_SIG:
      code = SEC_E_MESSAGE_ALTERED;
      break;
    case GSS_S_DEFECTIVE_TOKEN:
    case GSS_S_DEFECTIVE_CREDENTIAL:
      code = SEC_E_INVALID_TOKEN;
      break;
    case GSS_S_NO_CRED:
      code = SEC_E_NO_CREDENTIALS;
      break;
    case GSS_S_CREDENTIALS_EXPIRED:
    case GSS_S_CONTEXT_EXPIRED:
      code = SEC_E_CONTEXT_EXPIRED;
      break;
    case GSS_S_BAD_NAME:
    case GSS_S_BAD_NAMETYPE:
      code = SEC_E_TARGET_UNKNOWN;
      break;
    default:  // GSS_S_FAILURE: the mechanism's minor status says what
      code = ForMinor(minor, fallback);
      break;
  }
  return Status(code, what + ": " + DescribeGssStatus(major, minor));
}

// ==== Handles ===============================================================

void GssName::Reset() {
  if (name_ != GSS_C_NO_NAME) {
    OM_uint32 minor = 0;
    gss_release_name(&minor, &name_);
    name_ = GSS_C_NO_NAME;
  }
}

std::string GssName::Display() const {
  if (name_ == GSS_C_NO_NAME) return {};
  OM_uint32 minor = 0;
  gss_buffer_desc text = GSS_C_EMPTY_BUFFER;
  if (GSS_ERROR(gss_display_name(&minor, name_, &text, nullptr))) return {};
  std::string out(static_cast<const char*>(text.value), text.length);
  gss_release_buffer(&minor, &text);
  return out;
}

void GssCred::Reset() {
  if (cred_ != GSS_C_NO_CREDENTIAL) {
    OM_uint32 minor = 0;
    gss_release_cred(&minor, &cred_);
    cred_ = GSS_C_NO_CREDENTIAL;
  }
}

void GssContext::Reset() {
  if (ctx_ != GSS_C_NO_CONTEXT) {
    OM_uint32 minor = 0;
    gss_delete_sec_context(&minor, &ctx_, GSS_C_NO_BUFFER);
    ctx_ = GSS_C_NO_CONTEXT;
  }
}

void GssBuffer::Reset() {
  if (buffer_.value != nullptr) {
    OM_uint32 minor = 0;
    gss_release_buffer(&minor, &buffer_);
  }
  buffer_ = GSS_C_EMPTY_BUFFER;
}

}  // namespace comsec::auth::gssapi
