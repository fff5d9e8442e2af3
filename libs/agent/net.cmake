# The agent's network side (docs/design/agent.md "Network side"): desired state over MQTT in,
# status/heartbeat/KPI out, and the server ArtifactSource over the fetch helper's
# ComponentFetcher. Device side: the engine, fetch, libs/transport (libmosquitto) and the small
# fleet protocol target only. Included from libs/agent/CMakeLists.txt.
vqi_library(agent_net
  SOURCES src/server_source.cc src/kpi.cc src/net.cc src/net_report.cc
          src/spool.cc src/spool_sender.cc src/ipc_access.cc src/ipc_server.cc src/ipc_ops.cc
          src/ipc_agent.cc
  PUBLIC_DEPS vqi::agent vqi::agent_fetch vqi::transport vqi::fleet_protocol vqi::ipc_client
              vqi::base)

vqi_test(agent_net_unit_test SOURCES src/kpi_test.cc src/net_test.cc DEPS vqi::agent_net)

# Issue 20: the outbound spool, its delivery through a real Mosquitto, and the component IPC
# (docs/design/ipc.md).
vqi_test(agent_spool_test SOURCES src/spool_test.cc DEPS vqi::agent_net)
vqi_test(agent_spool_delivery_test SOURCES src/spool_delivery_test.cc
  DEPS vqi::agent_net vqi::transport_testing vqi::pki OpenSSL::SSL)
target_include_directories(agent_spool_delivery_test PRIVATE ${PROJECT_SOURCE_DIR}/libs/transport/src)
vqi_test(agent_ipc_test SOURCES src/ipc_test.cc src/ipc_access_test.cc DEPS vqi::agent_net)

# Device code is optimised for size: the agent's resident memory is mostly its own code pages
# (docs/design/agent.md "Memory and speed"); none of it is hot enough to need -O3.
option(VQI_AGENT_OPTIMIZE_SIZE "compile libs/agent and vqi-agent with -Os" ON)
if(VQI_AGENT_OPTIMIZE_SIZE)
  foreach(t vqi_agent vqi_agent_fetch vqi_agent_net)
    target_compile_options(${t} PRIVATE -Os)
  endforeach()
endif()
