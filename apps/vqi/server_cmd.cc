// vqi server [flags]: the HTTP API over this home (libs/server, docs/api.md);
// vqi server token create|list|revoke: the bearer tokens it accepts.
#include <pthread.h>
#include <signal.h>

#include <cstdio>
#include <memory>
#include <string>
#include <thread>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/fleet/controller.h"
#include "vqi/fleet/identity.h"
#include "vqi/results/drift_message.h"
#include "vqi/results/mqtt_ingest.h"
#include "vqi/results/shadow_handler.h"
#include "vqi/results/upload_ingest.h"
#include "vqi/server/server.h"
#include "vqi/server/token_store.h"
#include "vqi/transport/topics.h"

namespace vqi::cli {
namespace {

namespace sv = vqi::server;

struct ServerFlags {
  std::string bind = "127.0.0.1";
  int port = 8470;
  std::string tls_cert, tls_key, tls_client_ca;
  int64_t max_body_bytes = int64_t{64} << 20;
  int64_t max_upload_bytes = int64_t{4} << 30;
  int workers = 16;
  int shutdown_grace = 30;
  std::string token_name, token_scope = "read", revoke;
  std::string mqtt;  // HOST:PORT: run the fleet controller (docs/design/fleet.md)
                     // and the results ingest (docs/design/results.md)
  std::string uploads_dataset = std::string(results::kDefaultUploadsDataset);  // uploads go here
  int64_t uploads_max_pool = 100000;      // unlabelled images beyond which new uploads are refused
  int64_t uploads_max_per_thing = 10000;  // one device's share of them
  bool tls_auto = false;                  // HTTPS with a certificate from the vqi CA
  int poll_ms = 200;                      // controller poll interval
  int64_t rollout_minute_ms = 60000;      // the rollout planner's "minute" (tests shorten it)
};

// Serves until SIGTERM or SIGINT, then shuts down gracefully.
Status RunServer(const Context& ctx, const ServerFlags& f) {
  sv::ServerOptions o;
  o.home = ctx.home;
  o.bind_address = f.bind;
  o.port = f.port;
  o.tls = {f.tls_cert, f.tls_key, f.tls_client_ca};
  if (f.tls_auto) {
    if (!f.tls_cert.empty() || !f.tls_key.empty())
      return InvalidArgument("--tls-auto issues its own certificate: drop --tls-cert/--tls-key");
    VQI_ASSIGN_OR_RETURN(fleet::IdentityFiles tls, fleet::EnsureServerTls(ctx.home, f.bind));
    o.tls.cert_file = tls.cert_file;
    o.tls.key_file = tls.key_file;
  }
  o.max_body_bytes = f.max_body_bytes;
  o.max_upload_bytes = f.max_upload_bytes;
  o.threads = f.workers;
  o.shutdown_grace = std::chrono::seconds(f.shutdown_grace);

  // Block the signals in every thread (httplib's workers inherit the mask); one thread takes
  // them with sigwait and asks the server to stop.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  VQI_ASSIGN_OR_RETURN(auto server, sv::Server::Create(o));
  VQI_ASSIGN_OR_RETURN(int port, server->Bind());
  // The fleet controller (threads start after the signal mask: they inherit it).
  std::unique_ptr<fleet::FleetController> controller;
  std::unique_ptr<results::MqttResultsIngest> results_ingest;
  if (!f.mqtt.empty()) {
    fleet::ControllerOptions co;
    co.home = ctx.home;
    VQI_RETURN_IF_ERROR(fleet::ParseMqttAddress(f.mqtt, &co));
    co.poll_interval_ms = f.poll_ms;
    co.timing.minute_ms = f.rollout_minute_ms;
    VQI_ASSIGN_OR_RETURN(controller, fleet::FleetController::Create(co));
    VQI_RETURN_IF_ERROR(controller->Start());
    std::fprintf(stderr, "vqi server: fleet controller connecting to %s as vqi-server\n",
                 f.mqtt.c_str());
    // Inspection results (libs/results): its own connection, into <home>/results/results.db.
    results::MqttIngestOptions ro;
    ro.home = ctx.home;
    ro.mqtt_host = co.mqtt_host;
    ro.mqtt_port = co.mqtt_port;
    // Sub-kind handlers (vqi/v1/results/<thing>/<component>/<sub>; libs/results ingest.h): one
    // line each. Uploads → the dataset's unlabelled pool (docs/design/results.md "Uploads").
    results::UploadIngestOptions uo;
    uo.home = ctx.home;
    uo.dataset = f.uploads_dataset;
    uo.max_pool_images = f.uploads_max_pool;
    uo.max_pool_images_per_thing = f.uploads_max_per_thing;
    VQI_ASSIGN_OR_RETURN(auto uploads, results::UploadIngestor::Open(uo));
    ro.ingest.sub_handlers[std::string(transport::topics::kUploadSub)] = uploads;
    // Drift alerts (.../drift) → the thing's drift state in the results store, on a connection
    // of their own (docs/design/results.md "Drift").
    results::ResultStoreOptions drift_store;
    drift_store.retention = ro.retention;
    VQI_ASSIGN_OR_RETURN(
        auto drift, results::OpenSqliteResultStore(results::ResultsDbPath(ctx.home), drift_store));
    ro.ingest.sub_handlers[std::string(transport::topics::kDriftSub)] =
        results::MakeDriftHandler(std::move(drift));
    // Shadow statistics → <home>/fleet/shadow.db, read by the controller's promoteWhen.
    VQI_ASSIGN_OR_RETURN(ro.ingest.sub_handlers[std::string(transport::topics::kShadowSub)],
                         results::MakeShadowHandler(ctx.home));
    VQI_ASSIGN_OR_RETURN(results_ingest, results::MqttResultsIngest::Create(ro));
    VQI_RETURN_IF_ERROR(results_ingest->Start());
  }
  const std::string url =
      std::string(server->tls() ? "https" : "http") + "://" + f.bind + ":" + std::to_string(port);
  if (ctx.json)
    std::printf("%s\n",
                Json{{"listening", url}, {"port", port}, {"home", ctx.home}}.dump().c_str());
  else
    std::printf("listening on %s (home %s)\n", url.c_str(), ctx.home.c_str());
  std::fflush(stdout);

  sv::Server* raw = server.get();
  std::thread([raw, stop_signals] {
    int sig = 0;
    if (sigwait(&stop_signals, &sig) == 0) {
      std::fprintf(stderr, "vqi server: %s received, shutting down\n",
                   sig == SIGTERM ? "SIGTERM" : "SIGINT");
      raw->Shutdown();
    }
  }).detach();
  Status run = server->Run();
  if (results_ingest) results_ingest->Stop();  // drains what was received into the store
  if (controller) controller->Stop(2000);      // publishes not yet acknowledged stay pending
  VQI_RETURN_IF_ERROR(run);
  std::fprintf(stderr, "vqi server: stopped\n");
  return Status::Ok();
}

Status CreateToken(const Context& ctx, const ServerFlags& f) {
  VQI_ASSIGN_OR_RETURN(sv::Scope scope, sv::ParseScope(f.token_scope));
  VQI_ASSIGN_OR_RETURN(auto store, sv::OpenTokenStore(ctx.home));
  VQI_ASSIGN_OR_RETURN(sv::NewToken t, store->Create(f.token_name, scope));
  if (ctx.json) {
    std::printf("%s\n", Json{{"id", t.info.id},
                             {"name", t.info.name},
                             {"scope", sv::ScopeName(scope)},
                             {"token", t.token}}
                            .dump()
                            .c_str());
  } else {
    std::printf("%s\n", t.token.c_str());
    std::fprintf(stderr,
                 "token '%s' (id %s, scope %s): shown once, only its hash is stored in "
                 "%s/server/tokens.db\n",
                 t.info.name.c_str(), t.info.id.c_str(), sv::ScopeName(scope), ctx.home.c_str());
  }
  return Status::Ok();
}

Status ListTokens(const Context& ctx) {
  VQI_ASSIGN_OR_RETURN(auto store, sv::OpenTokenStore(ctx.home));
  VQI_ASSIGN_OR_RETURN(auto list, store->List());
  if (ctx.json) {
    Json arr = Json::array();
    for (const auto& t : list)
      arr.push_back({{"id", t.id},
                     {"name", t.name},
                     {"scope", sv::ScopeName(t.scope)},
                     {"created_at", t.created_at},
                     {"revoked_at", t.revoked_at ? Json(*t.revoked_at) : Json()}});
    std::printf("%s\n", arr.dump().c_str());
    return Status::Ok();
  }
  std::printf("%-12s  %-24s  %-6s  %-20s  %s\n", "ID", "NAME", "SCOPE", "CREATED", "REVOKED");
  for (const auto& t : list)
    std::printf("%-12s  %-24s  %-6s  %-20s  %s\n", t.id.c_str(), t.name.c_str(),
                sv::ScopeName(t.scope), t.created_at.c_str(),
                t.revoked_at ? t.revoked_at->c_str() : "-");
  return Status::Ok();
}

Status RevokeToken(const Context& ctx, const ServerFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto store, sv::OpenTokenStore(ctx.home));
  VQI_ASSIGN_OR_RETURN(sv::TokenInfo t, store->Revoke(f.revoke));
  std::printf("revoked token '%s' (id %s) at %s\n", t.name.c_str(), t.id.c_str(),
              t.revoked_at ? t.revoked_at->c_str() : "?");
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  auto f = std::make_shared<ServerFlags>();
  // Not Noun(): bare `vqi server` serves; `vqi server token ...` manages tokens.
  CLI::App* server = app.add_subcommand(
      "server",
      "Serve this home's datasets, models, components and artifacts over HTTP (docs/api.md)");
  server->require_subcommand(0, 1);
  server->add_option("--bind", f->bind, "address to listen on (default 127.0.0.1)")
      ->check(NonEmpty());
  server->add_option("--port", f->port, "TCP port; 0 picks a free one (printed)")
      ->check(InRange(0, 65535));
  server->add_option("--tls-cert", f->tls_cert, "PEM server certificate: serve HTTPS")
      ->check(NonEmpty());
  server->add_option("--tls-key", f->tls_key, "PEM private key of --tls-cert")->check(NonEmpty());
  server
      ->add_option("--tls-client-ca", f->tls_client_ca,
                   "PEM CA: require client certificates it signed (mutual TLS)")
      ->check(NonEmpty());
  server
      ->add_option("--max-body-bytes", f->max_body_bytes,
                   "largest JSON request body (default 64 MiB)")
      ->check(InRange<int64_t>(0, int64_t{1} << 30));
  server
      ->add_option("--max-upload-bytes", f->max_upload_bytes,
                   "largest artifact upload (default 4 GiB)")
      ->check(InRange<int64_t>(0, int64_t{4} << 30));
  server
      ->add_option("--workers", f->workers,
                   "HTTP worker threads, one per open connection (default 16)")
      ->check(InRange(1, 1024));
  server
      ->add_option("--shutdown-grace", f->shutdown_grace,
                   "seconds requests in flight may take after SIGTERM/SIGINT (default 30)")
      ->check(InRange(0, 3600));

  server
      ->add_option("--mqtt", f->mqtt,
                   "HOST:PORT of the MQTT broker: run the fleet controller (desired states out, "
                   "status and heartbeats in) as vqi-server, and the results ingest "
                   "(vqi/v1/results/# into <home>/results/results.db)")
      ->check(NonEmpty());
  server
      ->add_option("--uploads-dataset", f->uploads_dataset,
                   "with --mqtt: the dataset (created if missing) whose unlabelled pool receives "
                   "the images devices upload (default 'default'; `vqi dataset unlabeled`)")
      ->check(NonEmpty());
  server
      ->add_option("--uploads-max-pool", f->uploads_max_pool,
                   "with --mqtt: refuse (and count) uploads of new images once the dataset's "
                   "unlabelled pool holds this many (default 100000)")
      ->check(InRange<int64_t>(1, 100000000));
  server
      ->add_option("--uploads-max-per-thing", f->uploads_max_per_thing,
                   "with --mqtt: one device's share of that pool (default 10000)")
      ->check(InRange<int64_t>(1, 100000000));
  server->add_flag("--tls-auto", f->tls_auto,
                   "serve HTTPS with a certificate from the vqi CA (<home>/server/tls/; SANs: "
                   "--bind, 127.0.0.1, localhost)");
  server
      ->add_option("--poll-ms", f->poll_ms,
                   "fleet controller: how often the store is polled for rollout steps (ms, "
                   "default 200)")
      ->check(InRange(10, 60000));
  server
      ->add_option("--rollout-minute-ms", f->rollout_minute_ms,
                   "fleet controller: length of a rollout 'minute' (rate window and timeout "
                   "unit) in ms; default 60000, shorter for tests")
      ->check(InRange<int64_t>(100, 3600000));

  CLI::App* token = server->add_subcommand("token", "Bearer tokens for the server");
  token->require_subcommand(1);
  auto* create = token->add_subcommand("create", "Create a token and print it (once)");
  create->add_option("--name", f->token_name, "unique name, 1-64 of A-Z a-z 0-9 . _ -")
      ->required()
      ->check(NonEmpty());
  create->add_option("--scope", f->token_scope, "read | write | admin | device (default read)")
      ->check(CLI::IsMember({"read", "write", "admin", "device"}));
  create->callback([&ctx, f] { Exit(CreateToken(ctx, *f)); });
  auto* list = token->add_subcommand("list", "List tokens (never their secrets)");
  list->callback([&ctx] { Exit(ListTokens(ctx)); });
  auto* revoke = token->add_subcommand("revoke", "Revoke a token by id or name");
  revoke->add_option("token", f->revoke, "id or name")->required()->check(NonEmpty());
  revoke->callback([&ctx, f] { Exit(RevokeToken(ctx, *f)); });

  server->callback([&ctx, f, server] {
    if (server->get_subcommands().empty()) Exit(RunServer(ctx, *f));
  });
});

}  // namespace
}  // namespace vqi::cli
