# Helpers in the spirit of absl_cc_library / leveldb_test: one call per
# library, test, fuzzer or benchmark, so every target is built the same way.

# comsec_library(NAME base SRCS a.cc b.cc DEPS other_lib ...)
# Creates comsec_<NAME>; include paths start at src/.
function(comsec_library)
  cmake_parse_arguments(L "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(comsec_${L_NAME} STATIC ${L_SRCS})
  target_include_directories(comsec_${L_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(comsec_${L_NAME} PUBLIC ${L_DEPS})
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
