# The oneDNN backend (issue 12): graph compiler from ONNX to oneDNN primitives.
# Debian's dnnl-config.cmake requires the OpenCL headers (GPU runtime) that the CPU path does
# not need: locate the library and header directly instead.
find_library(VQI_DNNL_LIB NAMES dnnl REQUIRED)
find_path(VQI_DNNL_INCLUDE oneapi/dnnl/dnnl.hpp REQUIRED)
if(NOT TARGET vqi_dnnl)
  add_library(vqi_dnnl INTERFACE)
  target_link_libraries(vqi_dnnl INTERFACE ${VQI_DNNL_LIB})
  target_include_directories(vqi_dnnl SYSTEM INTERFACE ${VQI_DNNL_INCLUDE})
endif()
find_package(Protobuf REQUIRED)
find_package(ONNX REQUIRED)
find_package(OpenMP REQUIRED)
set(VQI_ONEDNN_DIR ${CMAKE_CURRENT_LIST_DIR})
list(APPEND VQI_INFER_SOURCES
  ${VQI_ONEDNN_DIR}/graph_load.cc ${VQI_ONEDNN_DIR}/ops_shape.cc ${VQI_ONEDNN_DIR}/ops_ref.cc ${VQI_ONEDNN_DIR}/passes.cc
  ${VQI_ONEDNN_DIR}/lowering.cc ${VQI_ONEDNN_DIR}/compiler.cc ${VQI_ONEDNN_DIR}/softmax_strided.cc
  ${VQI_ONEDNN_DIR}/onednn_backend.cc ${VQI_ONEDNN_DIR}/observe.cc)
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")  # GCC 12 false positive (PR 105651)
  set_source_files_properties(${VQI_ONEDNN_DIR}/graph_load.cc ${VQI_ONEDNN_DIR}/ops_shape.cc
    ${VQI_ONEDNN_DIR}/lowering.cc ${VQI_ONEDNN_DIR}/compiler.cc PROPERTIES COMPILE_OPTIONS -Wno-restrict)
endif()
list(APPEND VQI_INFER_PRIVATE_DEPS vqi_dnnl onnx onnx_proto OpenMP::OpenMP_CXX)

# Registration in the backend registry (libs/infer/src core). Compiled into every target that
# links vqi::infer (an INTERFACE source) so the static initializer is never dropped by the
# linker from the static library.
if(EXISTS ${CMAKE_CURRENT_LIST_DIR}/../core.cmake)
  cmake_language(DEFER CALL target_sources vqi_infer INTERFACE ${VQI_ONEDNN_DIR}/onednn_register.cc)
endif()

# Test/bench support: ONNX builders (not part of the backend).
add_library(vqi_onednn_testing STATIC
  ${VQI_ONEDNN_DIR}/testing/onnx_builder.cc ${VQI_ONEDNN_DIR}/testing/yolo_like.cc
  ${VQI_ONEDNN_DIR}/testing/qdq.cc)
target_include_directories(vqi_onednn_testing PUBLIC ${CMAKE_CURRENT_SOURCE_DIR}/src)
target_link_libraries(vqi_onednn_testing PUBLIC vqi::base vqi::model vqi_infer onnx onnx_proto)
target_compile_options(vqi_onednn_testing PRIVATE ${VQI_WARNINGS})

# Tests see the private headers (white-box op tests), declared once vqi_infer exists.
function(vqi_onednn_tests)
  file(GLOB tests ${VQI_ONEDNN_DIR}/*_test.cc)
  foreach(src ${tests})
    get_filename_component(t ${src} NAME_WE)
    vqi_test(onednn_${t} SOURCES ${src}
      DEPS vqi::infer vqi_onednn_testing vqi_dnnl onnx onnx_proto OpenMP::OpenMP_CXX)
    target_include_directories(onednn_${t} PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")  # GCC 12 false positive (PR 105651)
      target_compile_options(onednn_${t} PRIVATE -Wno-restrict)
    endif()
  endforeach()
  # Parity on models from our exporter (libs/onnx), when it is built.
  if(TARGET vqi_onnx)
    vqi_test(onednn_export_parity_test SOURCES ${VQI_ONEDNN_DIR}/export/export_parity_test.cc
      DEPS vqi::infer vqi::onnx vqi_onednn_testing vqi_dnnl onnx onnx_proto OpenMP::OpenMP_CXX)
    target_include_directories(onednn_export_parity_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
  endif()
endfunction()
cmake_language(DEFER CALL vqi_onednn_tests)

# libFuzzer target on the model loader (clang, -DVQI_FUZZ=ON).
function(vqi_onednn_fuzz)
  if(VQI_FUZZ AND CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    target_compile_options(vqi_infer PRIVATE -fsanitize=fuzzer-no-link,address,undefined)
    add_executable(onednn_load_fuzz ${PROJECT_SOURCE_DIR}/fuzz/onednn_load_fuzz.cc)
    target_link_libraries(onednn_load_fuzz PRIVATE vqi::infer vqi_dnnl onnx onnx_proto)
    target_include_directories(onednn_load_fuzz PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/src)
    target_compile_options(onednn_load_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
    target_link_options(onednn_load_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
  endif()
endfunction()
cmake_language(DEFER CALL vqi_onednn_fuzz)
