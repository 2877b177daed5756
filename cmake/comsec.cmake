# Helpers in the spirit of absl_cc_library / leveldb_test: one call per
# library, test, fuzzer or benchmark, so every target is built the same way.

# comsec_dependency(OpenSSL 3 PKG_CONFIG libcrypto)
# comsec_dependency(Threads LIBS -pthread)
# Finds a package that a comsec library links publicly and records it for the
# installed package: comsecConfig.cmake find_dependency()s it with the same
# arguments, and comsec.pc requires PKG_CONFIG (a pkg-config module) or adds
# LIBS (linker flags, for what has no module). Adding a dependency is this one
# line. A macro, so that the package's variables reach the caller.
macro(comsec_dependency comsec_dep_name)
  cmake_parse_arguments(COMSEC_DEP "" "PKG_CONFIG;LIBS" "" ${ARGN})
  find_package(${comsec_dep_name} ${COMSEC_DEP_UNPARSED_ARGUMENTS} REQUIRED)
  list(JOIN COMSEC_DEP_UNPARSED_ARGUMENTS " " comsec_dep_args)
  string(STRIP "${comsec_dep_name} ${comsec_dep_args}" comsec_dep_args)
  set_property(GLOBAL APPEND PROPERTY COMSEC_FIND_DEPENDENCIES
               "find_dependency(${comsec_dep_args})")
  if(COMSEC_DEP_PKG_CONFIG)
    set_property(GLOBAL APPEND PROPERTY COMSEC_PKG_CONFIG_REQUIRES
                 "${COMSEC_DEP_PKG_CONFIG}")
  endif()
  if(COMSEC_DEP_LIBS)
    set_property(GLOBAL APPEND PROPERTY COMSEC_PKG_CONFIG_LIBS "${COMSEC_DEP_LIBS}")
  endif()
endmacro()

# comsec_library(NAME base [LAYER base] SRCS a.cc b.cc DEPS other_lib ...)
# Creates comsec_<NAME>, whose headers are included as
# "comsec/<LAYER>/name.h" (LAYER defaults to NAME; it is the folder under
# src/). Each layer gets an include root of its own in the build tree,
# holding only comsec/<LAYER> (a link to src/<LAYER>), so a library sees the
# headers of its own layer and of the layers it links to, never those above
# it; installed, the same headers sit under <prefix>/include/comsec/<LAYER>.
function(comsec_library)
  cmake_parse_arguments(L "" "NAME;LAYER" "SRCS;DEPS" ${ARGN})
  if(NOT L_LAYER)
    set(L_LAYER ${L_NAME})
  endif()
  set(root ${PROJECT_BINARY_DIR}/include-layers/${L_LAYER})
  if(NOT EXISTS ${root}/comsec/${L_LAYER})
    file(MAKE_DIRECTORY ${root}/comsec)
    file(CREATE_LINK ${PROJECT_SOURCE_DIR}/src/${L_LAYER} ${root}/comsec/${L_LAYER}
         SYMBOLIC)
  endif()
  add_library(comsec_${L_NAME} STATIC ${L_SRCS})
  add_library(comsec::${L_NAME} ALIAS comsec_${L_NAME})
  set_target_properties(comsec_${L_NAME} PROPERTIES
    EXPORT_NAME ${L_NAME} OUTPUT_NAME comsec_${L_NAME} POSITION_INDEPENDENT_CODE ON)
  target_include_directories(comsec_${L_NAME} PUBLIC
    $<BUILD_INTERFACE:${root}>
    $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
  target_link_libraries(comsec_${L_NAME} PUBLIC ${L_DEPS})
  # The headers need C++20: so does whatever includes them.
  target_compile_features(comsec_${L_NAME} PUBLIC cxx_std_20)
  set_property(GLOBAL APPEND PROPERTY COMSEC_LIBRARIES comsec_${L_NAME})
  set_property(GLOBAL APPEND PROPERTY COMSEC_LAYERS ${L_LAYER})
endfunction()

# comsec_interface_library(NAME auth DEPS comsec_auth_ntlm ...): a library
# that is only the sum of others (comsec::auth links every package).
function(comsec_interface_library)
  cmake_parse_arguments(L "" "NAME" "DEPS" ${ARGN})
  add_library(comsec_${L_NAME} INTERFACE)
  add_library(comsec::${L_NAME} ALIAS comsec_${L_NAME})
  set_target_properties(comsec_${L_NAME} PROPERTIES EXPORT_NAME ${L_NAME})
  target_link_libraries(comsec_${L_NAME} INTERFACE ${L_DEPS})
  set_property(GLOBAL APPEND PROPERTY COMSEC_LIBRARIES comsec_${L_NAME})
endfunction()

# comsec_test(NAME sid_test SRCS sid_test.cc DEPS comsec_security
#             [LABELS concurrency])
# Tests labelled "concurrency" also run under ThreadSanitizer (make test-tsan).
function(comsec_test)
  cmake_parse_arguments(T "" "NAME" "SRCS;DEPS;LABELS" ${ARGN})
  find_package(GTest REQUIRED)
  add_executable(${T_NAME} ${T_SRCS})
  target_link_libraries(${T_NAME} PRIVATE ${T_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_definitions(${T_NAME} PRIVATE
    COMSEC_TEST_DATA_DIR="${PROJECT_SOURCE_DIR}/tests/data"
    COMSEC_BINARY_DIR="${PROJECT_BINARY_DIR}")
  if(T_LABELS)
    gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60 PROPERTIES LABELS "${T_LABELS}")
  else()
    gtest_discover_tests(${T_NAME} DISCOVERY_TIMEOUT 60)
  endif()
endfunction()

# comsec_fuzzer(NAME sddl_fuzzer SRCS sddl_fuzzer.cc DEPS comsec_security)
function(comsec_fuzzer)
  cmake_parse_arguments(F "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${F_NAME} ${F_SRCS})
  target_link_libraries(${F_NAME} PRIVATE ${F_DEPS})
  target_link_options(${F_NAME} PRIVATE -fsanitize=fuzzer)
endfunction()

# comsec_benchmark(NAME security_access_check_benchmark SRCS ... DEPS ...)
function(comsec_benchmark)
  cmake_parse_arguments(B "" "NAME" "SRCS;DEPS" ${ARGN})
  find_package(benchmark REQUIRED)
  add_executable(${B_NAME} ${B_SRCS})
  target_link_libraries(${B_NAME} PRIVATE ${B_DEPS} benchmark::benchmark
                        benchmark::benchmark_main)
endfunction()
