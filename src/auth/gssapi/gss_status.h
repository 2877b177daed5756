// MIT GSSAPI (RFC 2743/2744, RFC 4121 for the krb5 mechanism) as comsec
// uses it: owning wrappers for the library's handles, so that every early
// return releases them, and the mapping of GSS major/minor statuses to the
// SEC_E_* HRESULTs SSPI returns for the same failures, with a message that
// carries MIT's own explanation ("Server not found in Kerberos database").
//
// Supplementary status bits (RFC 2743 1.2.1.1: DUPLICATE_TOKEN, OLD_TOKEN,
// UNSEQ_TOKEN, GAP_TOKEN) are not errors to GSS_ERROR(); for DCE/RPC they
// are (a replayed or reordered PDU), so GssFailure treats any status other
// than GSS_S_COMPLETE as one, SEC_E_OUT_OF_SEQUENCE for those bits.
#pragma once

#include <gssapi/gssapi.h>

#include <string>

#include "comsec/base/status.h"

namespace comsec::auth::gssapi {

// A Status for a GSS call that did not return GSS_S_COMPLETE (or
// GSS_S_CONTINUE_NEEDED where the caller allows it): `what` names the
// step ("accepting the client's AP-REQ"), `fallback` is the HRESULT when
// the status has no closer SEC_E_* equivalent. The message never carries
// token or key bytes, only MIT's status texts.
Status GssFailure(HResult fallback, const std::string& what, OM_uint32 major, OM_uint32 minor);

// MIT's texts for a major status and the mechanism's minor status.
std::string DescribeGssStatus(OM_uint32 major, OM_uint32 minor);

// ==== Owning handles =======================================================
// Each releases its handle when destroyed; get() lends it, out() hands its
// address to a GSS call that fills it (releasing what it held first).

class GssName {
 public:
  GssName() = default;
  ~GssName() { Reset(); }
  GssName(const GssName&) = delete;
  GssName& operator=(const GssName&) = delete;
  gss_name_t get() const { return name_; }
  gss_name_t* out() {
    Reset();
    return &name_;
  }
  void Reset();
  // gss_display_name's text ("alice@COMSEC.TEST"); empty without a name.
  std::string Display() const;

 private:
  gss_name_t name_ = GSS_C_NO_NAME;
};

class GssCred {
 public:
  GssCred() = default;
  ~GssCred() { Reset(); }
  GssCred(const GssCred&) = delete;
  GssCred& operator=(const GssCred&) = delete;
  gss_cred_id_t get() const { return cred_; }
  gss_cred_id_t* out() {
    Reset();
    return &cred_;
  }
  void Reset();

 private:
  gss_cred_id_t cred_ = GSS_C_NO_CREDENTIAL;
};

class GssContext {
 public:
  GssContext() = default;
  ~GssContext() { Reset(); }
  GssContext(const GssContext&) = delete;
  GssContext& operator=(const GssContext&) = delete;
  gss_ctx_id_t get() const { return ctx_; }
  // In-out for gss_init/accept_sec_context, which update it in place.
  gss_ctx_id_t* inout() { return &ctx_; }
  void Reset();

 private:
  gss_ctx_id_t ctx_ = GSS_C_NO_CONTEXT;
};

// A buffer the library allocated (output tokens, display strings).
class GssBuffer {
 public:
  GssBuffer() = default;
  ~GssBuffer() { Reset(); }
  GssBuffer(const GssBuffer&) = delete;
  GssBuffer& operator=(const GssBuffer&) = delete;
  gss_buffer_t out() {
    Reset();
    return &buffer_;
  }
  const gss_buffer_desc& get() const { return buffer_; }
  void Reset();

 private:
  gss_buffer_desc buffer_ = GSS_C_EMPTY_BUFFER;
};

}  // namespace comsec::auth::gssapi
