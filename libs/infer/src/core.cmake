# libs/infer core (issue 4): backend registry, model contract check, pre/post-processing,
# the OpenCV DNN backend and the ONNX detector. Included by libs/infer/CMakeLists.txt.
set(VQI_INFER_CORE_DIR ${CMAKE_CURRENT_LIST_DIR})
list(APPEND VQI_INFER_SOURCES
  ${VQI_INFER_CORE_DIR}/registry.cc ${VQI_INFER_CORE_DIR}/model_check.cc
  ${VQI_INFER_CORE_DIR}/image.cc ${VQI_INFER_CORE_DIR}/opencv_backend.cc
  ${VQI_INFER_CORE_DIR}/detector.cc)
list(APPEND VQI_INFER_TESTS
  ${VQI_INFER_CORE_DIR}/image_test.cc ${VQI_INFER_CORE_DIR}/backend_test.cc)
list(APPEND VQI_INFER_PRIVATE_DEPS vqi::onnx opencv_dnn)

function(vqi_infer_core_tests)
  vqi_test(infer_test
    SOURCES ${VQI_INFER_TESTS}
    DEPS vqi::infer vqi::onnx onnx onnx_proto opencv_dnn)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")  # GCC 12 false positive (PR 105651)
    target_compile_options(vqi_infer PRIVATE -Wno-restrict)
    target_compile_options(infer_test PRIVATE -Wno-restrict)
  endif()
endfunction()
cmake_language(DEFER CALL vqi_infer_core_tests)
