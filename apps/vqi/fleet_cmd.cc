// vqi thing create|list|show|revoke|group add|remove, vqi deployment create|status|cancel|list:
// the fleet (libs/fleet, docs/design/fleet.md). Stores: <home>/fleet/fleet.db and the component
// store <home>/components/components.db (deployments are resolved against it at creation).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli.h"
#include "vqi/base/clock.h"
#include "vqi/base/file.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/component/store.h"
#include "vqi/fleet/bundle.h"
#include "vqi/fleet/deploy.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/health.h"
#include "vqi/fleet/identity.h"
#include "vqi/fleet/promote_rule.h"
#include "vqi/fleet/rollout.h"
#include "vqi/fleet/shadow_promote.h"
#include "vqi/fleet/shadow_store.h"
#include "vqi/fleet/store.h"
#include "vqi/fleet/thing_view.h"
#include "vqi/pki/pki.h"
#include "vqi/server/token_store.h"
#include "vqi/signing/keys.h"
#include "vqi/transport/topics.h"

namespace vqi::cli {
namespace {

namespace fl = vqi::fleet;

struct FleetFlags {
  std::string name, group, target, file, id;
  std::vector<std::string> groups;
  std::string bundle, broker = "127.0.0.1:8883", server = "https://127.0.0.1:8470";
  std::string shadow, promote_when, inspector;  // deployment create (docs/design/shadow.md)
  int days = 365;
  bool json = false;
};

// The server token of a thing: "thing.<name>" (token names are at most 64 characters).
std::string DeviceTokenName(const std::string& thing) {
  if (thing.size() <= 58) return "thing." + thing;
  return "thing." + thing.substr(0, 41) + "." + Sha256Hex(thing).substr(0, 16);
}

Result<pki::Ca> OpenOrCreateCa(const Context& ctx) { return fl::OpenOrCreateCa(ctx.home); }

struct IssuedThing {
  std::string serial, fingerprint, bundle_dir;
};

// Certificate, device token and agent bundle for `thing`. On error, what was issued is revoked.
Result<IssuedThing> IssueAndBundle(const Context& ctx, const FleetFlags& f,
                                   const std::string& thing) {
  IssuedThing out;
  out.bundle_dir = f.bundle.empty() ? ctx.home + "/fleet/bundles/" + thing : f.bundle;
  if (FileExists(out.bundle_dir))
    return AlreadyExists(out.bundle_dir + ": already exists (choose another --bundle)");
  VQI_ASSIGN_OR_RETURN(pki::Ca ca, OpenOrCreateCa(ctx));
  VQI_ASSIGN_OR_RETURN(std::string ca_pem, ReadFile(ca.CertPath(), 1 << 20));
  fl::AgentBundle b;
  b.thing = thing;
  b.broker = f.broker;
  b.server = f.server;
  b.ca_pem = ca_pem;
  signing::KeyStore keys(ctx.home);
  VQI_ASSIGN_OR_RETURN(std::vector<signing::KeyInfo> key_list, keys.List());
  for (const signing::KeyInfo& k : key_list) {
    VQI_ASSIGN_OR_RETURN(signing::PublicKey pk, keys.Public(k.name));
    b.trusted_keys[k.name] = signing::PublicKeyFileText(pk);
  }
  VQI_ASSIGN_OR_RETURN(pki::Issued issued,
                       pki::IssueCertificate(ca, {thing, pki::CertKind::kClient, {}, {}, f.days}));
  b.cert_pem = issued.cert_pem;
  b.key_pem = issued.key_pem;
  out.serial = issued.serial;
  auto undo_cert = [&] {
    (void)pki::Revoke(ca, issued.serial, pki::RevocationReason::kCessationOfOperation);
    (void)pki::WriteCrl(ca);
  };
  auto certs = pki::ListCertificates(ca);
  if (certs.ok())
    for (const pki::CertRecord& r : *certs)
      if (r.serial == issued.serial) out.fingerprint = r.sha256;
  auto tokens = server::OpenTokenStore(ctx.home);
  if (!tokens.ok()) {
    undo_cert();
    return tokens.status();
  }
  auto token = (*tokens)->Create(DeviceTokenName(thing), server::Scope::kDevice);
  if (!token.ok()) {
    undo_cert();
    return token.status();
  }
  b.token = token->token;
  if (Status st = fl::WriteAgentBundle(out.bundle_dir, b); !st.ok()) {
    undo_cert();
    (void)(*tokens)->Revoke(token->info.id);
    return st;
  }
  return out;
}

Result<std::unique_ptr<fl::FleetStore>> OpenFleet(const Context& ctx) {
  return fl::OpenSqliteFleetStore(fl::FleetDbPath(ctx.home));
}

Result<std::unique_ptr<component::Store>> OpenComponents(const Context& ctx) {
  return component::OpenSqliteStore(component::ComponentsDbPath(ctx.home));
}

Json DeploymentJson(const fl::Deployment& d) {
  Json j{{"id", d.id},
         {"target", d.target.ToString()},
         {"name", d.name},
         {"created", d.created},
         {"resolved", d.resolved},
         {"superseded_by", d.superseded_by.empty() ? Json(nullptr) : Json(d.superseded_by)},
         {"canceled", d.canceled.empty() ? Json(nullptr) : Json(d.canceled)}};
  if (!d.rollout_state.empty()) {
    auto st = fl::RolloutStateFromJson(d.rollout_state);
    if (st.ok())
      j["rollout"] = {{"phase", fl::RolloutPhaseName(st->phase)}, {"reason", st->reason}};
  }
  return j;
}

std::string DeploymentState(const fl::Deployment& d) {
  if (!d.canceled.empty()) return "CANCELED";
  if (!d.superseded_by.empty()) return "SUPERSEDED by " + d.superseded_by;
  return "ACTIVE";
}

Status RunThingCreate(const Context& ctx, const FleetFlags& f) {
  VQI_RETURN_IF_ERROR(transport::topics::CheckDeviceName(f.name));
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  for (const std::string& g : f.groups) VQI_RETURN_IF_ERROR(fl::ValidateThingName(g, "group name"));
  std::unique_ptr<component::Store> components;
  if (!f.groups.empty()) {
    VQI_ASSIGN_OR_RETURN(components, OpenComponents(ctx));
  }
  fl::Thing t;
  IssuedThing issued;
  // One transaction: a conflicting group or a failed issue leaves no thing behind.
  VQI_RETURN_IF_ERROR(fleet->InTransaction([&]() -> Status {
    VQI_ASSIGN_OR_RETURN(t, fleet->CreateThing(f.name));
    for (const std::string& g : f.groups)
      VQI_RETURN_IF_ERROR(fl::AddThingToGroup(*fleet, *components, t.name, g));
    VQI_ASSIGN_OR_RETURN(issued, IssueAndBundle(ctx, f, t.name));
    VQI_RETURN_IF_ERROR(fleet->SetCertificate(t.name, issued.serial, issued.fingerprint));
    VQI_ASSIGN_OR_RETURN(t, fleet->GetThing(t.name));
    return Status::Ok();
  }));
  if (ctx.json || f.json) {
    Json j = fl::ThingJson(t);
    j["bundle"] = issued.bundle_dir;
    std::cout << j.dump(2) << "\n";
  } else {
    std::cout << "created thing '" << t.name << "'";
    if (!t.groups.empty()) {
      std::cout << " in group";
      for (const std::string& g : t.groups) std::cout << " " << g;
    }
    std::cout << "\n  certificate serial " << t.cert_serial << "\n  agent bundle "
              << issued.bundle_dir << " (holds the device key and token: copy it to the device "
              << "and delete it here)\n";
  }
  return Status::Ok();
}

Status RunThingList(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(std::vector<fl::Thing> things, fleet->ListThings());
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const fl::Thing& t : things) {
      Json j = fl::ThingJson(t);
      j["health"] = fl::HealthJson(*fleet, t.name);
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  if (things.empty()) {
    std::cout << "no things (create one with: vqi thing create NAME --group GROUP)\n";
    return Status::Ok();
  }
  std::printf("%-32s %-8s %-22s %-22s %s\n", "NAME", "STATE", "CREATED", "LAST SEEN", "GROUPS");
  for (const fl::Thing& t : things) {
    std::string groups;
    for (const std::string& g : t.groups) groups += (groups.empty() ? "" : ",") + g;
    auto h = fleet->GetHealth(t.name);
    const std::string seen = h.ok() && h->has_value() ? (*h)->last_seen : "never";
    std::printf("%-32s %-8s %-22s %-22s %s\n", t.name.c_str(),
                t.revoked.empty() ? "active" : "revoked", t.created.c_str(), seen.c_str(),
                groups.c_str());
  }
  return Status::Ok();
}

Status RunThingShow(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(fl::Thing t, fleet->GetThing(f.name));
  VQI_ASSIGN_OR_RETURN(auto components, OpenComponents(ctx));
  Json j = fl::ThingJson(t);
  auto desired = fl::ComputeDesiredState(*fleet, *components, t.name);
  if (desired.ok()) {
    Json comps = Json::object();
    for (const auto& [name, c] : desired->components) comps[name] = c.version;
    j["desired"] = {{"deployment", desired->deployment_id}, {"components", comps}};
  } else {
    j["desired"] = nullptr;
    j["desired_error"] = desired.status().message();
  }
  // This thing's status in every deployment that lists it.
  VQI_ASSIGN_OR_RETURN(Json deployments, fl::ThingDeploymentsJson(*fleet, t.name));
  j["deployments"] = deployments;
  j["health"] = fl::HealthJson(*fleet, t.name);
  j["published"] = fl::PublishedJson(*fleet, t.name);
  if (ctx.json || f.json) {
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "thing " << t.name << (t.revoked.empty() ? "" : " (revoked " + t.revoked + ")")
            << "\n  created  " << t.created << "\n  groups  ";
  for (const std::string& g : t.groups) std::cout << " " << g;
  std::cout << "\n  certificate " << (t.cert_serial.empty() ? "(none)" : t.cert_serial) << "\n";
  if (desired.ok()) {
    std::cout << "  desired (" << desired->deployment_id << "):\n";
    for (const auto& [name, c] : desired->components)
      std::cout << "    " << name << " " << c.version << "\n";
  } else {
    std::cout << "  desired: " << desired.status().message() << "\n";
  }
  if (const Json& p = j["published"]; !p.is_null())
    std::cout << "  published: sequence " << p["sequence"].get<int64_t>() << " ("
              << (p["cleared"].get<bool>() ? "cleared" : p["deployment"].get<std::string>())
              << (p["acknowledged"].get<bool>() ? ", acknowledged by the broker" : ", pending")
              << ")\n";
  for (const Json& d : deployments)
    std::cout << "  " << d["id"].get<std::string>() << " " << d["target"].get<std::string>() << " "
              << d["status"].get<std::string>() << "\n";
  const Json& health = j["health"];
  if (health["last_seen"].is_null()) {
    std::cout << "  last seen: never\n";
  } else {
    std::cout << "  last seen: " << health["last_seen"].get<std::string>() << "\n";
    const Json& hb = health["heartbeat"];
    if (!hb.is_null()) {
      std::cout << "  heartbeat (" << health["heartbeat_at"].get<std::string>() << "): uptime "
                << hb.value("uptimeSeconds", int64_t{0}) << " s";
      if (hb.contains("pssKb")) std::cout << ", PSS " << hb["pssKb"].get<int64_t>() << " KiB";
      if (hb.contains("transfer"))
        std::cout << ", downloaded " << hb["transfer"].value("bytesDownloaded", int64_t{0})
                  << " B, from cache " << hb["transfer"].value("bytesFromCache", int64_t{0})
                  << " B";
      std::cout << "\n";
      const Json components = hb.value("components", Json::object());  // outlives the loop
      for (const auto& [name, c] : components.items())
        std::cout << "    " << name << " " << c.value("version", "") << " " << c.value("state", "")
                  << "\n";
    }
  }
  return Status::Ok();
}

Status RunThingRevoke(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(fl::Thing t, fleet->GetThing(f.name));
  VQI_RETURN_IF_ERROR(fleet->RevokeThing(t.name));
  size_t certs = 0;
  if (!t.cert_serial.empty()) {
    VQI_ASSIGN_OR_RETURN(pki::Ca ca, pki::OpenCa(pki::CaDir(ctx.home)));
    auto revoked = pki::Revoke(ca, t.name, pki::RevocationReason::kCessationOfOperation);
    if (!revoked.ok() && revoked.status().code() != StatusCode::kNotFound) return revoked.status();
    if (revoked.ok()) certs = revoked->size();
    VQI_RETURN_IF_ERROR(pki::WriteCrl(ca));
  }
  VQI_ASSIGN_OR_RETURN(auto tokens, server::OpenTokenStore(ctx.home));
  auto token = tokens->Revoke(DeviceTokenName(t.name));
  if (!token.ok() && token.status().code() != StatusCode::kNotFound) return token.status();
  std::cout << "revoked thing '" << t.name << "': " << certs << " certificate(s) added to "
            << pki::CaDir(ctx.home) << "/crl.pem" << (token.ok() ? ", device token revoked" : "")
            << "; a running `vqi broker run` picks the CRL up within a second and restarts "
               "Mosquitto, which disconnects the thing (a broker you run yourself must be "
               "restarted)\n";
  return Status::Ok();
}

Status RunGroupAdd(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(auto components, OpenComponents(ctx));
  VQI_RETURN_IF_ERROR(fl::AddThingToGroup(*fleet, *components, f.name, f.group));
  std::cout << "added thing '" << f.name << "' to group '" << f.group << "'\n";
  return Status::Ok();
}

Status RunGroupRemove(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_RETURN_IF_ERROR(fl::RemoveThingFromGroup(*fleet, f.name, f.group, RealClock().NowMs()));
  std::cout << "removed thing '" << f.name << "' from group '" << f.group << "'\n";
  return Status::Ok();
}

Status RunDeploymentCreate(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(fl::Target target, fl::ParseTarget(f.target));
  VQI_ASSIGN_OR_RETURN(std::string file_text, ReadFile(f.file, fl::kMaxDocumentBytes));
  VQI_ASSIGN_OR_RETURN(std::string text,
                       fl::WithShadowOptions(file_text, f.shadow, f.promote_when, f.inspector));
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(auto components, OpenComponents(ctx));
  VQI_ASSIGN_OR_RETURN(fl::CreateOutcome out,
                       fl::CreateDeployment(*fleet, *components, target, text, f.file));
  if (ctx.json || f.json) {
    Json j = DeploymentJson(out.deployment);
    j["things"] = out.things;
    j["superseded"] = out.superseded.empty() ? Json(nullptr) : Json(out.superseded);
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << "created deployment " << out.deployment.id << " to " << target.ToString() << " ("
            << out.things.size() << (out.things.size() == 1 ? " thing" : " things") << ", "
            << out.deployment.resolved.size() << " components)\n";
  for (const auto& [name, version] : out.deployment.resolved)
    std::cout << "  " << name << " " << version << "\n";
  if (!out.superseded.empty()) std::cout << "  supersedes " << out.superseded << "\n";
  if (auto doc = fl::ParseDeploymentDocument(text); doc.ok() && doc->shadow)
    std::cout << "  shadow " << doc->shadow->component << " " << doc->shadow->version << " in "
              << doc->shadow->inspector
              << (doc->shadow->promote_when.empty()
                      ? std::string(", never promoted automatically")
                      : ", promoted when " + doc->shadow->promote_when)
              << "\n";
  return Status::Ok();
}

// The shadow part of `vqi deployment status` (docs/design/shadow.md): {} when none.
Result<Json> ShadowPart(const Context& ctx, fl::FleetStore& fleet, const fl::Deployment& d) {
  if (d.document.find("\"vqiShadow\"") == std::string::npos &&
      d.document.find("\"vqiPromotion\"") == std::string::npos)
    return Json::object();
  VQI_ASSIGN_OR_RETURN(auto shadow, fl::OpenSqliteShadowStore(fl::ShadowDbPath(ctx.home)));
  return fl::ShadowSummary(fleet, *shadow, d);
}

void PrintShadowPart(const Json& part) {
  if (part.contains("shadow")) {
    const Json& s = part["shadow"];
    std::cout << "shadow " << s["component"].get<std::string>() << " "
              << s["version"].get<std::string>() << " in " << s["inspector"].get<std::string>()
              << "; rule: "
              << (s["promoteWhen"].get<std::string>().empty() ? "(none)"
                                                              : s["promoteWhen"].get<std::string>())
              << "\n";
    if (s.contains("evidence"))
      std::cout << "  evidence " << s["evidence"].dump()
                << (s.value("holds", false) ? " (holds)" : "") << "\n";
  }
  if (part.contains("promotion")) {
    const Json& p = part["promotion"];
    std::cout << "promoted " << p.value("component", "") << " " << p.value("version", "")
              << " from " << p.value("from", "") << " at " << p.value("at", "") << " because "
              << p.value("rule", "") << " held: " << p["evidence"].dump() << "\n";
  }
}

Status RunDeploymentStatus(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(fl::Deployment d, fleet->GetDeployment(f.id));
  VQI_ASSIGN_OR_RETURN(std::vector<fl::DeviceStatusRecord> st, fleet->DeviceStatuses(d.id));
  if (ctx.json || f.json) {
    Json j = DeploymentJson(d);
    j["state"] = DeploymentState(d);
    Json devices = Json::array();
    for (const fl::DeviceStatusRecord& r : st) {
      Json dev{{"thing", r.thing},
               {"status", fl::DeviceStatusName(r.status)},
               {"reason", r.reason},
               {"updated", r.updated},
               {"sequence", r.sequence}};
      if (r.kpi)
        dev["kpi"] = {
            {"metric", r.kpi->metric}, {"before", r.kpi->before}, {"after", r.kpi->after}};
      devices.push_back(dev);
    }
    j["devices"] = devices;
    VQI_ASSIGN_OR_RETURN(Json shadow_part, ShadowPart(ctx, *fleet, d));
    for (auto it = shadow_part.begin(); it != shadow_part.end(); ++it) j[it.key()] = it.value();
    std::cout << j.dump(2) << "\n";
    return Status::Ok();
  }
  std::cout << d.id << " " << d.target.ToString() << " " << DeploymentState(d) << " (created "
            << d.created << ")\n";
  if (!d.rollout_state.empty()) {
    auto rs = fl::RolloutStateFromJson(d.rollout_state);
    if (rs.ok())
      std::cout << "rollout " << fl::RolloutPhaseName(rs->phase) << ", " << rs->rate_per_minute
                << " per minute" << (rs->reason.empty() ? "" : ": " + rs->reason) << "\n";
  }
  VQI_ASSIGN_OR_RETURN(Json shadow_part, ShadowPart(ctx, *fleet, d));
  PrintShadowPart(shadow_part);
  std::printf("%-32s %-26s %-22s %s\n", "THING", "STATUS", "UPDATED", "REASON");
  for (const fl::DeviceStatusRecord& r : st)
    std::printf("%-32s %-26s %-22s %s\n", r.thing.c_str(), fl::DeviceStatusName(r.status),
                r.updated.c_str(), r.reason.c_str());
  return Status::Ok();
}

Status RunDeploymentCancel(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_RETURN_IF_ERROR(fl::CancelDeployment(*fleet, f.id, RealClock().NowMs()));
  std::cout << "canceled deployment " << f.id << "\n";
  return Status::Ok();
}

Status RunDeploymentList(const Context& ctx, const FleetFlags& f) {
  VQI_ASSIGN_OR_RETURN(auto fleet, OpenFleet(ctx));
  VQI_ASSIGN_OR_RETURN(std::vector<fl::Deployment> all, fleet->ListDeployments());
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const fl::Deployment& d : all) {
      Json j = DeploymentJson(d);
      j["state"] = DeploymentState(d);
      out.push_back(j);
    }
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  if (all.empty()) {
    std::cout << "no deployments (vqi deployment create --target group:G --file D.json)\n";
    return Status::Ok();
  }
  std::printf("%-10s %-32s %-22s %-20s %s\n", "ID", "TARGET", "CREATED", "STATE", "NAME");
  for (const fl::Deployment& d : all)
    std::printf("%-10s %-32s %-22s %-20s %s\n", d.id.c_str(), d.target.ToString().c_str(),
                d.created.c_str(), DeploymentState(d).c_str(), d.name.c_str());
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  auto f = std::make_shared<FleetFlags>();
  CLI::App& thing = Noun(app, "thing", "Devices of the fleet: create, list, show, groups");
  const char* kName = "thing name: [A-Za-z0-9][A-Za-z0-9._-]{0,127}";

  auto* create = thing.add_subcommand("create", "Record a thing (device), optionally in groups");
  create->add_option("NAME", f->name, kName)->required()->check(NonEmpty());
  create->add_option("--group", f->groups, "thing group to join (repeatable)")->check(NonEmpty());
  create
      ->add_option("--bundle", f->bundle,
                   "agent bundle folder to write (default <home>/fleet/bundles/NAME)")
      ->check(NonEmpty());
  create->add_option("--broker", f->broker, "MQTT broker host:port the agent dials")
      ->check(NonEmpty());
  create->add_option("--server", f->server, "vqi server URL the agent downloads from")
      ->check(NonEmpty());
  create->add_option("--days", f->days, "certificate validity in days")
      ->check(InRange(1, pki::kMaxDays));
  create->add_flag("--json", f->json, "machine-readable output");
  create->callback([&ctx, f] { Exit(RunThingCreate(ctx, *f)); });

  auto* list = thing.add_subcommand("list", "List things");
  list->add_flag("--json", f->json, "machine-readable output");
  list->callback([&ctx, f] { Exit(RunThingList(ctx, *f)); });

  auto* show = thing.add_subcommand("show", "A thing, its desired state and its deployments");
  show->add_option("NAME", f->name, kName)->required()->check(NonEmpty());
  show->add_flag("--json", f->json, "machine-readable output");
  show->callback([&ctx, f] { Exit(RunThingShow(ctx, *f)); });

  auto* revoke = thing.add_subcommand(
      "revoke", "Revoke a thing: certificate onto the CRL, token revoked, no new deployments");
  revoke->add_option("NAME", f->name, kName)->required()->check(NonEmpty());
  revoke->callback([&ctx, f] { Exit(RunThingRevoke(ctx, *f)); });

  auto* group = thing.add_subcommand("group", "Thing group membership");
  group->require_subcommand(1);
  auto* add = group->add_subcommand("add",
                                    "Add a thing to a group (refused if its deployments "
                                    "would conflict)");
  add->add_option("THING", f->name, kName)->required()->check(NonEmpty());
  add->add_option("GROUP", f->group, "group name")->required()->check(NonEmpty());
  add->callback([&ctx, f] { Exit(RunGroupAdd(ctx, *f)); });
  auto* remove = group->add_subcommand("remove", "Remove a thing from a group");
  remove->add_option("THING", f->name, kName)->required()->check(NonEmpty());
  remove->add_option("GROUP", f->group, "group name")->required()->check(NonEmpty());
  remove->callback([&ctx, f] { Exit(RunGroupRemove(ctx, *f)); });

  CLI::App& dep = Noun(app, "deployment", "Deploy components to things (Greengrass documents)");
  auto* dcreate = dep.add_subcommand(
      "create", "Create a deployment from a Greengrass CreateDeployment document");
  dcreate->add_option("--target", f->target, "thing:NAME or group:NAME")
      ->required()
      ->check(NonEmpty());
  dcreate->add_option("--file", f->file, "CreateDeployment request body (JSON)")
      ->required()
      ->check(NonEmpty());
  dcreate
      ->add_option("--shadow", f->shadow,
                   "candidate model COMPONENT@VERSION run beside the live one "
                   "(sets vqiShadow; docs/design/shadow.md)")
      ->check(NonEmpty());
  dcreate
      ->add_option("--promote-when", f->promote_when,
                   "rule promoting the candidate fleet-wide, e.g. \"images>=200 && "
                   "verdict_agreement>=0.98 && box_match>=0.95 && devices>=2\"; names: " +
                       fl::PromoteRule::MetricNames())
      ->check(NonEmpty());
  dcreate
      ->add_option("--inspector", f->inspector,
                   "the document's component that runs the models (default vqi.inspect)")
      ->check(NonEmpty());
  dcreate->add_flag("--json", f->json, "machine-readable output");
  dcreate->callback([&ctx, f] { Exit(RunDeploymentCreate(ctx, *f)); });

  auto* status = dep.add_subcommand("status", "Per-device status of a deployment");
  status->add_option("ID", f->id, "deployment id (dep-N)")->required()->check(NonEmpty());
  status->add_flag("--json", f->json, "machine-readable output");
  status->callback([&ctx, f] { Exit(RunDeploymentStatus(ctx, *f)); });

  auto* cancel = dep.add_subcommand("cancel", "Cancel a deployment (unfinished devices CANCELED)");
  cancel->add_option("ID", f->id, "deployment id (dep-N)")->required()->check(NonEmpty());
  cancel->callback([&ctx, f] { Exit(RunDeploymentCancel(ctx, *f)); });

  auto* dlist = dep.add_subcommand("list", "List deployments");
  dlist->add_flag("--json", f->json, "machine-readable output");
  dlist->callback([&ctx, f] { Exit(RunDeploymentList(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
