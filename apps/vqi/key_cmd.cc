// vqi key create|list|export|trust: publisher keys (libs/signing, docs/design/signing.md).
#include <cstdio>
#include <iostream>
#include <memory>
#include <string>

#include "cli.h"
#include "vqi/base/json.h"
#include "vqi/signing/keys.h"

namespace vqi::cli {
namespace {

namespace sg = vqi::signing;

struct KeyFlags {
  std::string name, file;
  bool json = false;
};

Json KeyJson(const sg::KeyInfo& k) {
  return Json{{"name", k.name},
              {"key_id", k.key_id},
              {"created", k.created},
              {"public_key", k.public_key_hex},
              {"kind", k.trusted_only ? "trusted" : "own"},
              {"can_sign", k.has_secret}};
}

Status RunCreate(const Context& ctx, const KeyFlags& f) {
  sg::KeyStore keys(ctx.home);
  VQI_ASSIGN_OR_RETURN(sg::KeyInfo k, keys.Create(f.name));
  if (ctx.json || f.json)
    std::cout << KeyJson(k).dump(2) << "\n";
  else
    std::cout << "created key '" << k.name << "' (key id " << k.key_id << ") in " << keys.dir()
              << "\n  the secret key never leaves " << keys.dir() << "/" << k.name
              << ".key; give others: vqi key export " << k.name << "\n";
  return Status::Ok();
}

Status RunList(const Context& ctx, const KeyFlags& f) {
  sg::KeyStore keys(ctx.home);
  VQI_ASSIGN_OR_RETURN(std::vector<sg::KeyInfo> list, keys.List());
  if (ctx.json || f.json) {
    Json out = Json::array();
    for (const sg::KeyInfo& k : list) out.push_back(KeyJson(k));
    std::cout << out.dump(2) << "\n";
    return Status::Ok();
  }
  if (list.empty()) {
    std::cout << "no keys in " << keys.dir() << " (create one with: vqi key create NAME)\n";
    return Status::Ok();
  }
  std::printf("%-24s %-16s %-8s %s\n", "NAME", "KEY ID", "KIND", "CREATED");
  for (const sg::KeyInfo& k : list)
    std::printf("%-24s %-16s %-8s %s\n", k.name.c_str(), k.key_id.c_str(),
                k.trusted_only ? "trusted" : (k.has_secret ? "own" : "own-pub"), k.created.c_str());
  return Status::Ok();
}

Status RunExport(const Context& ctx, const KeyFlags& f) {
  sg::KeyStore keys(ctx.home);
  VQI_ASSIGN_OR_RETURN(std::string text, keys.ExportPublic(f.name));
  std::cout << text;
  return Status::Ok();
}

Status RunTrust(const Context& ctx, const KeyFlags& f) {
  sg::KeyStore keys(ctx.home);
  VQI_ASSIGN_OR_RETURN(sg::KeyInfo k, keys.Trust(f.name, f.file));
  if (ctx.json)
    std::cout << KeyJson(k).dump(2) << "\n";
  else
    std::cout << "trusting key '" << k.name << "' (key id " << k.key_id
              << ") for component verification\n";
  return Status::Ok();
}

const bool kRegistered = Register([](CLI::App& app, Context& ctx) {
  CLI::App& key = Noun(app, "key", "Publisher keys: create, list, export, trust (Ed25519)");
  auto f = std::make_shared<KeyFlags>();

  auto* create = key.add_subcommand("create", "Create a publisher key pair in <home>/keys");
  create->add_option("NAME", f->name, "key name: 1-64 characters [A-Za-z0-9._-]")
      ->required()
      ->check(NonEmpty());
  create->add_flag("--json", f->json, "machine-readable output");
  create->callback([&ctx, f] { Exit(RunCreate(ctx, *f)); });

  auto* list = key.add_subcommand("list", "List own and trusted keys");
  list->add_flag("--json", f->json, "machine-readable output");
  list->callback([&ctx, f] { Exit(RunList(ctx, *f)); });

  auto* exp = key.add_subcommand("export", "Print the public key file of an own key");
  exp->add_option("NAME", f->name, "key name")->required()->check(NonEmpty());
  exp->callback([&ctx, f] { Exit(RunExport(ctx, *f)); });

  auto* trust = key.add_subcommand("trust", "Trust a public key (from vqi key export) for verify");
  trust->add_option("NAME", f->name, "name to trust the key under")->required()->check(NonEmpty());
  trust->add_option("FILE", f->file, "public key file")->required()->check(NonEmpty());
  trust->callback([&ctx, f] { Exit(RunTrust(ctx, *f)); });
});

}  // namespace
}  // namespace vqi::cli
