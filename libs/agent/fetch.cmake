# The agent's downloads from `vqi server` (docs/design/fetch.md): a library target of its own so
# it can land beside the engine. Device side: base, component, signing and libcurl only (no
# libtorch, OpenCV or cpp-httplib). Included from libs/agent/CMakeLists.txt.
find_package(CURL REQUIRED)

vqi_library(agent_fetch
  SOURCES src/fetch_http.cc src/fetch_cache.cc src/fetch_download.cc src/fetch.cc src/fetch_bundle.cc
  PUBLIC_DEPS vqi::base vqi::component vqi::signing
  PRIVATE_DEPS CURL::libcurl)

# One component fetched the agent's way, printed as JSON (a development tool; what the link test
# inspects).
add_executable(vqi-fetch-min src/fetch_min_main.cc)
target_link_libraries(vqi-fetch-min PRIVATE vqi::agent_fetch)
target_compile_options(vqi-fetch-min PRIVATE ${VQI_WARNINGS})
add_test(NAME agent_fetch_link_test
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/fetch_link_test.sh $<TARGET_FILE:vqi-fetch-min>
          ${CMAKE_CURRENT_BINARY_DIR}/fetch_link_work)
set_tests_properties(agent_fetch_link_test PROPERTIES TIMEOUT 60)

# Against the real server (libs/server in-process on a loopback port, a temporary home, components
# created and signed by libs/component's packaging): the test side may link what the device does not.
vqi_test(agent_fetch_test
  SOURCES src/fetch_test.cc src/fetch_verify_test.cc src/fetch_tls_test.cc src/fetch_cache_test.cc
  DEPS vqi::agent_fetch vqi::server vqi::component_store vqi::signing vqi::blob vqi::sqlite)
target_compile_definitions(agent_fetch_test PRIVATE VQI_FETCH_MIN="$<TARGET_FILE:vqi-fetch-min>")
add_dependencies(agent_fetch_test vqi-fetch-min)
