// vqi broker run|config: the home's MQTT broker (Mosquitto with the generated configuration,
// the vqi CA's certificates and CRL). The work is in libs/transport broker_service.h; this
// file parses flags and prints (docs/design/pki-mqtt.md, "The production broker").
#include <pthread.h>
#include <signal.h>

#include <atomic>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/transport/broker_service.h"

namespace vqi::cli {
namespace {

namespace tr = vqi::transport;

struct BrokerFlags {
  std::string bind = "127.0.0.1";
  int port = 8883;
  int cert_days = 365;
  std::vector<std::string> sans;
};

tr::BrokerHomeOptions HomeOptions(const Context& ctx, const BrokerFlags& f) {
  tr::BrokerHomeOptions o;
  o.home = ctx.home;
  o.bind = f.bind;
  o.port = f.port;
  o.cert_days = f.cert_days;
  o.extra_sans = f.sans;
  return o;
}

// Runs until SIGTERM or SIGINT. One stdout line once Mosquitto accepts connections; events
// (restarts, crashes, certificate re-issues) go to stderr.
Status RunBrokerCmd(const Context& ctx, const BrokerFlags& f) {
  // Blocked in every thread; one thread takes them with sigwait and asks the loop to stop.
  // (The Mosquitto child gets an empty mask before exec.)
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  auto stop = std::make_shared<std::atomic<bool>>(false);
  std::thread([stop, stop_signals] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) {
      std::fprintf(stderr, "vqi broker: %s received, stopping mosquitto\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      *stop = true;
    }
  }).detach();

  tr::BrokerRunOptions o;
  o.home = HomeOptions(ctx, f);
  o.on_listening = [&ctx](const std::string& address) {
    if (ctx.json)
      std::printf("%s\n", Json{{"listening", address}, {"home", ctx.home}}.dump().c_str());
    else
      std::printf("broker: listening on %s\n", address.c_str());
    std::fflush(stdout);
  };
  o.on_event = [](const std::string& e) { std::fprintf(stderr, "vqi broker: %s\n", e.c_str()); };
  return tr::RunBroker(o, *stop);
}

Status WriteBrokerConfig(const Context& ctx, const BrokerFlags& f) {
  VQI_ASSIGN_OR_RETURN(tr::PreparedBroker p, tr::PrepareBroker(HomeOptions(ctx, f)));
  const std::string command = tr::MosquittoCommandLine(p.layout.conf);
  if (ctx.json) {
    std::printf("%s\n", Json{{"config", p.layout.conf},
                             {"acl", p.layout.acl},
                             {"certificate", p.layout.cert},
                             {"key", p.layout.key},
                             {"crl", p.layout.crl},
                             {"log", p.layout.log},
                             {"certificate_issued", p.cert_issued},
                             {"command", command}}
                            .dump()
                            .c_str());
    return Status::Ok();
  }
  std::fprintf(stderr,
               "wrote %s and %s (broker certificate %s%s); Mosquitto must be restarted when "
               "%s changes (vqi broker run does that)\n",
               p.layout.conf.c_str(), p.layout.acl.c_str(), p.layout.cert.c_str(),
               p.cert_issued ? ", newly issued" : "", p.layout.crl.c_str());
  std::printf("%s\n", command.c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  auto f = std::make_shared<BrokerFlags>();
  CLI::App& broker =
      Noun(app, "broker", "The MQTT broker of this home (Mosquitto, mutual TLS with the vqi CA)");
  auto add_common = [f](CLI::App* cmd) {
    cmd->add_option("--port", f->port, "TLS listener port (default 8883)")
        ->check(InRange(1, 65535));
    cmd->add_option("--bind", f->bind, "listener address, numeric (default 127.0.0.1)")
        ->check(NonEmpty());
    cmd->add_option("--san", f->sans,
                    "another name devices dial, IP or DNS (repeatable; 127.0.0.1 and localhost "
                    "are always in the broker certificate)")
        ->check(NonEmpty());
    cmd->add_option("--cert-days", f->cert_days,
                    "validity of a newly issued broker certificate (default 365)")
        ->check(InRange(31, 3650));
  };
  auto* run = broker.add_subcommand(
      "run",
      "Run Mosquitto in the foreground until SIGTERM/SIGINT; restart it when <home>/pki/crl.pem "
      "changes (revocations reach connected devices) and after a crash");
  add_common(run);
  run->callback([&ctx, f] { Exit(RunBrokerCmd(ctx, *f)); });

  auto* config = broker.add_subcommand(
      "config",
      "Write <home>/broker/ (mosquitto.conf, acl, TLS certificate) for running Mosquitto "
      "yourself, and print its command line");
  add_common(config);
  config->callback([&ctx, f] { Exit(WriteBrokerConfig(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
