# The device-side deployment engine (docs/design/agent.md): a library target of its own beside
# the downloads (fetch.cmake). Links libs/base and libs/component only: no libtorch, no OpenCV
# (tests/edge/agent_link_test.sh). Included from libs/agent/CMakeLists.txt.
option(VQI_AGENT_TEST_HOOKS "honour VQI_AGENT_CRASH_AT in vqi-agent (crash tests; OFF on devices)" ON)

set(VQI_AGENT_SOURCES
  src/artifact_source.cc src/deployment.cc src/state.cc src/plan.cc src/install.cc
  src/supervisor.cc src/lifecycle.cc src/engine.cc src/shadow.cc
)

vqi_library(agent
  SOURCES ${VQI_AGENT_SOURCES}
  PUBLIC_DEPS vqi::component vqi::base)
if(VQI_AGENT_TEST_HOOKS)
  target_compile_definitions(vqi_agent PRIVATE VQI_AGENT_TEST_HOOKS)
endif()

vqi_test(agent_unit_test SOURCES src/deployment_test.cc src/plan_test.cc DEPS vqi::agent)
