# Helpers: one per target kind.
#   vqi_library(NAME SOURCES ... [PUBLIC_DEPS ...] [PRIVATE_DEPS ...])
#   vqi_test(NAME SOURCES ... DEPS ... [LABELS slow] [TIMEOUT s])
#   vqi_bench(NAME SOURCES ... DEPS ...)

set(VQI_WARNINGS -Wall -Wextra -Wno-unused-parameter)
# GCC 12's libstdc++ inlines `"literal" + std::string` into memcpy bounds it then reports as
# overlapping or oversized (GCC PR 105651, PR 105329): false positives, silenced tree-wide.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  list(APPEND VQI_WARNINGS -Wno-restrict -Wno-stringop-overflow)
endif()
if(VQI_SANITIZE STREQUAL "address")
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
elseif(VQI_SANITIZE STREQUAL "thread")
  add_compile_options(-fsanitize=thread)
  add_link_options(-fsanitize=thread)
endif()

function(vqi_library name)
  cmake_parse_arguments(A "" "" "SOURCES;PUBLIC_DEPS;PRIVATE_DEPS" ${ARGN})
  add_library(vqi_${name} ${A_SOURCES})
  add_library(vqi::${name} ALIAS vqi_${name})
  target_include_directories(vqi_${name} PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/include
                                         PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  target_link_libraries(vqi_${name} PUBLIC ${A_PUBLIC_DEPS} PRIVATE ${A_PRIVATE_DEPS})
  target_compile_options(vqi_${name} PRIVATE ${VQI_WARNINGS})
endfunction()

function(vqi_test name)
  cmake_parse_arguments(A "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS} GTest::gtest GTest::gtest_main)
  target_compile_options(${name} PRIVATE ${VQI_WARNINGS})
  target_compile_definitions(${name} PRIVATE
    VQI_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    VQI_BINARY_DIR="${PROJECT_BINARY_DIR}")
  add_test(NAME ${name} COMMAND ${name})
  if(NOT A_TIMEOUT)
    set(A_TIMEOUT 600)
  endif()
  set_tests_properties(${name} PROPERTIES TIMEOUT ${A_TIMEOUT}
    ENVIRONMENT "VQI_SHARED_DIR=${PROJECT_SOURCE_DIR}/../shared;VQI_BIN=$<TARGET_FILE_DIR:vqi>/vqi;OMP_WAIT_POLICY=PASSIVE")
  # ctest runs tests side by side on few cores: OpenMP threads (libtorch, oneDNN) that spin
  # while waiting would starve each other, so tests wait passively.
  if(A_LABELS)
    set_tests_properties(${name} PROPERTIES LABELS "${A_LABELS}")
  endif()
endfunction()

function(vqi_bench name)
  cmake_parse_arguments(A "" "" "SOURCES;DEPS" ${ARGN})
  add_executable(${name} ${A_SOURCES})
  target_link_libraries(${name} PRIVATE ${A_DEPS})
  target_compile_options(${name} PRIVATE ${VQI_WARNINGS})
endfunction()

# vqi_dnnl: oneDNN as an INTERFACE target, for the libraries that use it (libs/infer-onednn, and
# libs/train for its 1×1 GEMMs). Debian's dnnl-config.cmake requires the OpenCL headers (GPU
# runtime) that the CPU path does not need, so the library and header are located directly.
function(vqi_find_dnnl)
  if(TARGET vqi_dnnl)
    return()
  endif()
  find_library(VQI_DNNL_LIB NAMES dnnl REQUIRED)
  find_path(VQI_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp REQUIRED)
  add_library(vqi_dnnl INTERFACE)
  target_link_libraries(vqi_dnnl INTERFACE ${VQI_DNNL_LIB})
  target_include_directories(vqi_dnnl SYSTEM INTERFACE ${VQI_DNNL_INCLUDE})
endfunction()
