# The installed package (issue 10 item 9): every comsec library, each
# layer's headers under include/comsec/<layer>/, the export set
# comsecTargets (namespace comsec::), comsecConfig.cmake and
# comsecConfigVersion.cmake under lib/cmake/comsec, and comsec.pc for
# pkg-config. Included last, when every comsec_library() has recorded itself
# in COMSEC_LIBRARIES / COMSEC_LAYERS and every comsec_dependency() in
# COMSEC_FIND_DEPENDENCIES. The tools install themselves where they are
# defined.
include(CMakePackageConfigHelpers)

get_property(comsec_libraries GLOBAL PROPERTY COMSEC_LIBRARIES)
get_property(comsec_layers GLOBAL PROPERTY COMSEC_LAYERS)
list(REMOVE_DUPLICATES comsec_layers)
set(COMSEC_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/comsec)

install(TARGETS ${comsec_libraries} EXPORT comsecTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
foreach(layer IN LISTS comsec_layers)
  # Subfolders (rpc/transport, auth/ntlm) keep their place.
  install(DIRECTORY ${PROJECT_SOURCE_DIR}/src/${layer}/
    DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/comsec/${layer}
    FILES_MATCHING PATTERN "*.h")
endforeach()
install(EXPORT comsecTargets NAMESPACE comsec:: DESTINATION ${COMSEC_CMAKE_DIR})

# comsecConfig.cmake: the dependencies, then the targets.
get_property(comsec_find_dependencies GLOBAL PROPERTY COMSEC_FIND_DEPENDENCIES)
list(JOIN comsec_find_dependencies "\n" COMSEC_FIND_DEPENDENCIES)
set(COMSEC_EXPORT_NAMES "")
foreach(lib IN LISTS comsec_libraries)
  get_target_property(name ${lib} EXPORT_NAME)
  string(APPEND COMSEC_EXPORT_NAMES " ${name}")
endforeach()
string(STRIP "${COMSEC_EXPORT_NAMES}" COMSEC_EXPORT_NAMES)
configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/comsecConfig.cmake.in
  ${PROJECT_BINARY_DIR}/package/comsecConfig.cmake
  INSTALL_DESTINATION ${COMSEC_CMAKE_DIR})
# 0.x releases promise nothing across minor versions.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/package/comsecConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/package/comsecConfig.cmake
              ${PROJECT_BINARY_DIR}/package/comsecConfigVersion.cmake
              ${PROJECT_SOURCE_DIR}/cmake/comsec_idl.cmake
              ${PROJECT_SOURCE_DIR}/cmake/FindKrb5Gssapi.cmake
        DESTINATION ${COMSEC_CMAKE_DIR})

# comsec.pc. Libraries in link order: each is defined after the layers it
# links, so the reverse of definition order puts every one before its
# dependencies. A static library's dependencies are every consumer's, so
# they go in Requires and Libs; a shared one's in the .private fields.
set(COMSEC_PC_LINK "")
foreach(lib IN LISTS comsec_libraries)
  get_target_property(type ${lib} TYPE)
  if(type STREQUAL "INTERFACE_LIBRARY")
    continue()  # only the sum of libraries listed on their own
  endif()
  get_target_property(out ${lib} OUTPUT_NAME)
  set(COMSEC_PC_LINK "-l${out} ${COMSEC_PC_LINK}")
endforeach()
get_property(comsec_pc_requires GLOBAL PROPERTY COMSEC_PKG_CONFIG_REQUIRES)
get_property(comsec_pc_libs GLOBAL PROPERTY COMSEC_PKG_CONFIG_LIBS)
list(JOIN comsec_pc_requires ", " COMSEC_PC_REQUIRES)
list(JOIN comsec_pc_libs " " comsec_pc_libs)
list(GET comsec_libraries 0 first_library)
get_target_property(library_type ${first_library} TYPE)
if(library_type STREQUAL "STATIC_LIBRARY")
  set(COMSEC_PC_REQUIRES_FIELD "Requires")
  string(APPEND COMSEC_PC_LINK "${comsec_pc_libs}")
  set(COMSEC_PC_LIBS_PRIVATE "")
else()
  set(COMSEC_PC_REQUIRES_FIELD "Requires.private")
  set(COMSEC_PC_LIBS_PRIVATE "Libs.private: ${comsec_pc_libs}")
endif()
string(STRIP "${COMSEC_PC_LINK}" COMSEC_PC_LINK)
foreach(kind LIBDIR INCLUDEDIR)
  if(IS_ABSOLUTE "${CMAKE_INSTALL_${kind}}")
    set(COMSEC_PC_${kind} "${CMAKE_INSTALL_${kind}}")
  else()
    set(COMSEC_PC_${kind} "\${prefix}/${CMAKE_INSTALL_${kind}}")
  endif()
endforeach()
# The prefix is the one `cmake --install --prefix` names, known only when
# installing: the file is configured twice, the second time then.
set(COMSEC_PC_PREFIX "@COMSEC_INSTALL_PREFIX@")
configure_file(${PROJECT_SOURCE_DIR}/cmake/comsec.pc.in
               ${PROJECT_BINARY_DIR}/package/comsec.pc.in @ONLY)
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(comsec_pc_dir "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
else()
  set(comsec_pc_dir "\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig")
endif()
install(CODE "
  set(COMSEC_INSTALL_PREFIX \"\${CMAKE_INSTALL_PREFIX}\")
  configure_file(\"${PROJECT_BINARY_DIR}/package/comsec.pc.in\"
                 \"${PROJECT_BINARY_DIR}/package/install/comsec.pc\" @ONLY)
  file(INSTALL DESTINATION \"${comsec_pc_dir}\"
       TYPE FILE FILES \"${PROJECT_BINARY_DIR}/package/install/comsec.pc\")
")
