// The AWS public component table (kept in step with docs/design/component.md).
#include "vqi/component/aws_components.h"

namespace vqi::component {
namespace {

struct Entry {
  const char* name;  // exact name, or a family prefix ending in '.' or '*'
  AwsSupport support;
  const char* note;
};

constexpr Entry kTable[] = {
    {"aws.greengrass.Nucleus", AwsSupport::kProvided, "vqi-agent itself is the nucleus"},
    {"aws.greengrass.NucleusLite", AwsSupport::kProvided, "vqi-agent itself is the nucleus"},
    {"aws.greengrass.StreamManager", AwsSupport::kProvided,
     "vqi-agent's durable outbound spool (results and uploads survive outages)"},
    {"aws.greengrass.DiskSpooler", AwsSupport::kProvided,
     "vqi-agent's durable outbound spool (messages are kept on disk across restarts)"},
    {"aws.greengrass.Cli", AwsSupport::kProvided, "vqi-agent's local command line"},
    {"aws.greengrass.TokenExchangeService", AwsSupport::kRefused,
     "vqi issues no AWS credentials; components fetch artifacts from `vqi server` with the "
     "device's token"},
    {"aws.greengrass.ShadowManager", AwsSupport::kRefused,
     "vqi keeps desired and reported state on the device's deployment topic, not in a shadow"},
    {"aws.greengrass.LogManager", AwsSupport::kRefused,
     "vqi-agent keeps component logs on the device; there is no CloudWatch upload"},
    {"aws.greengrass.DockerApplicationManager", AwsSupport::kRefused,
     "vqi runs native processes; there is no container runtime on the device"},
    {"aws.greengrass.SecretManager", AwsSupport::kRefused,
     "there is no AWS Secrets Manager; pass settings through the component configuration"},
    {"aws.greengrass.MqttBridge", AwsSupport::kRefused,
     "the MQTT broker is Mosquitto on the broker host, not a component"},
    {"aws.greengrass.clientdevices.", AwsSupport::kRefused,
     "the MQTT broker is Mosquitto on the broker host, not a component"},
    {"aws.greengrass.Lambda", AwsSupport::kRefused, "Lambda functions cannot run under vqi"},
    {"aws.greengrass.SageMakerEdgeManager", AwsSupport::kRefused,
     "inference ships as vqi components (a model component and an inference component)"},
    {"aws.greengrass.DLR", AwsSupport::kRefused,
     "inference ships as vqi components (a model component and an inference component)"},
    {"aws.greengrass.TensorFlowLite", AwsSupport::kRefused,
     "inference ships as vqi components (a model component and an inference component)"},
    {"aws.greengrass.SecureTunneling", AwsSupport::kRefused,
     "AWS IoT secure tunneling is not available"},
    {"aws.greengrass.SystemsManagerAgent", AwsSupport::kRefused,
     "AWS Systems Manager is not available"},
    {"aws.greengrass.crypto.", AwsSupport::kRefused,
     "hardware security modules are not supported by vqi-agent"},
};

bool Matches(const Entry& e, std::string_view name) {
  const std::string_view n = e.name;
  const bool family = n.back() == '.' || n == "aws.greengrass.Lambda" ||
                      n == "aws.greengrass.DLR" || n == "aws.greengrass.TensorFlowLite";
  return family ? name.substr(0, n.size()) == n : name == n;
}

}  // namespace

AwsComponent LookupAwsComponent(std::string_view name) {
  for (const Entry& e : kTable)
    if (Matches(e, name)) return {e.support, e.note};
  if (name.substr(0, 4) == "aws.")
    return {AwsSupport::kRefused,
            "an AWS public component vqi does not know; names starting with 'aws.' are "
            "reserved for AWS (docs/design/component.md lists what vqi provides)"};
  return {};
}

Status CheckAwsDependency(std::string_view requirer, std::string_view name) {
  const AwsComponent c = LookupAwsComponent(name);
  if (c.support != AwsSupport::kRefused) return Status::Ok();
  return FailedPrecondition(std::string(requirer) + " depends on " + std::string(name) +
                            ", which vqi does not provide: " + c.note);
}

}  // namespace vqi::component
