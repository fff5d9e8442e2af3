# The agent's network side (docs/design/agent.md "Network side"): desired state over MQTT in,
# status/heartbeat/KPI out, and the server ArtifactSource over the fetch helper's
# ComponentFetcher. Device side: the engine, fetch, libs/transport (libmosquitto) and the small
# fleet protocol target only. Included from libs/agent/CMakeLists.txt.
vqi_library(agent_net
  SOURCES src/server_source.cc src/kpi.cc src/net.cc src/net_report.cc
  PUBLIC_DEPS vqi::agent vqi::agent_fetch vqi::transport vqi::fleet_protocol vqi::base)

vqi_test(agent_net_unit_test SOURCES src/kpi_test.cc src/net_test.cc DEPS vqi::agent_net)
