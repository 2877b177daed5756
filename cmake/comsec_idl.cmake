# comsec_idl(TARGET target FILES a.idl [b.idl ...] [INCLUDES dir ...])
# Runs comidl at build time on each IDL file, into
# <current binary dir>/comidl/<target>/, and compiles the generated .cc into
# `target`, whose users then include "a.h". Generated code is never
# committed. INCLUDES are -I directories for imports (an import is first
# looked up beside the importing file; wtypes.idl, unknwn.idl, objidl.idl
# and oaidl.idl are bundled with comidl).
#
# INTERNAL: the generated header is for the target's own sources only (a
# comsec library serving one of its wire interfaces, e.g. comsec_rpc and the
# endpoint mapper's ept.idl): its directory is not published to the
# target's users, and the target is not linked to comsec::rpc (it is it,
# or already above it).
#
# In comsec's own tree the comidl target is used; against an installed
# comsec, comsecConfig.cmake sets COMSEC_COMIDL to the installed program.
function(comsec_idl)
  cmake_parse_arguments(IDL "INTERNAL" "TARGET" "FILES;INCLUDES" ${ARGN})
  if(NOT IDL_TARGET OR NOT IDL_FILES)
    message(FATAL_ERROR "comsec_idl: TARGET and FILES are required")
  endif()
  if(TARGET comidl)
    set(compiler $<TARGET_FILE:comidl>)
    set(compiler_dep comidl)
  elseif(COMSEC_COMIDL)
    set(compiler ${COMSEC_COMIDL})
    set(compiler_dep ${COMSEC_COMIDL})
  else()
    message(FATAL_ERROR "comsec_idl: no comidl (build it in tree, or find_package(comsec))")
  endif()
  set(out_dir ${CMAKE_CURRENT_BINARY_DIR}/comidl/${IDL_TARGET})
  set(flags "")
  foreach(dir IN LISTS IDL_INCLUDES)
    get_filename_component(dir ${dir} ABSOLUTE)
    list(APPEND flags -I ${dir})
  endforeach()
  # Every file of the call may import another: each output depends on all.
  set(all_idl "")
  foreach(idl IN LISTS IDL_FILES)
    get_filename_component(abs ${idl} ABSOLUTE)
    list(APPEND all_idl ${abs})
  endforeach()
  foreach(abs IN LISTS all_idl)
    get_filename_component(name ${abs} NAME_WE)
    add_custom_command(
      OUTPUT ${out_dir}/${name}.h ${out_dir}/${name}.cc
      COMMAND ${compiler} ${flags} -o ${out_dir} ${abs}
      DEPENDS ${compiler_dep} ${all_idl}
      COMMENT "comidl ${name}.idl"
      VERBATIM)
    target_sources(${IDL_TARGET} PRIVATE ${out_dir}/${name}.cc ${out_dir}/${name}.h)
  endforeach()
  if(IDL_INTERNAL)
    target_include_directories(${IDL_TARGET} PRIVATE ${out_dir})
  else()
    target_include_directories(${IDL_TARGET} PUBLIC $<BUILD_INTERFACE:${out_dir}>)
    # Generated code is written on the NDR and RPC layers.
    target_link_libraries(${IDL_TARGET} PUBLIC comsec::rpc)
  endif()
endfunction()
