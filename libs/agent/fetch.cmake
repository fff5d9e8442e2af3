# The agent's downloads from `vqi server` (docs/design/fetch.md): a library target of its own so
# it can land beside the engine. Device side: base, component, signing and libcurl only (no
# libtorch, OpenCV or cpp-httplib). Included from libs/agent/CMakeLists.txt.
find_package(CURL REQUIRED)

vqi_library(agent_fetch
  SOURCES src/fetch_http.cc src/fetch_cache.cc src/fetch.cc
  PUBLIC_DEPS vqi::base vqi::component vqi::signing
  PRIVATE_DEPS CURL::libcurl)

# Against the real server (libs/server in-process on a loopback port, a temporary home, components
# created and signed by libs/component's packaging): the test side may link what the device does not.
vqi_test(agent_fetch_test
  SOURCES src/fetch_test.cc src/fetch_verify_test.cc src/fetch_tls_test.cc src/fetch_cache_test.cc
  DEPS vqi::agent_fetch vqi::server vqi::component_store vqi::signing vqi::blob vqi::sqlite)
