# FindKrb5Gssapi: MIT Kerberos's GSSAPI library (Debian libkrb5-dev), found
# through the pkg-config modules krb5-gssapi and krb5, as the imported target
# Krb5::Gssapi (headers gssapi/gssapi*.h and krb5.h; -lgssapi_krb5 -lkrb5
# -lk5crypto -lcom_err). Installed beside comsecConfig.cmake, so that a
# consumer's find_package(comsec) finds it the same way.
find_package(PkgConfig QUIET)
if(PkgConfig_FOUND)
  pkg_check_modules(Krb5Gssapi_PC QUIET IMPORTED_TARGET GLOBAL krb5-gssapi krb5)
endif()
include(FindPackageHandleStandardArgs)
find_package_handle_standard_args(Krb5Gssapi
  REQUIRED_VARS Krb5Gssapi_PC_LINK_LIBRARIES
  VERSION_VAR Krb5Gssapi_PC_VERSION)
if(Krb5Gssapi_FOUND AND NOT TARGET Krb5::Gssapi)
  add_library(Krb5::Gssapi INTERFACE IMPORTED)
  target_link_libraries(Krb5::Gssapi INTERFACE PkgConfig::Krb5Gssapi_PC)
endif()
