// Promotion of a shadow candidate (docs/design/shadow.md): the rule of a live deployment's
// `vqiShadow.promoteWhen` over the latest statistics of the deployment's things, and the
// deployment that promotes the candidate. Called by the fleet controller's loop.
//
// Thread-compatibility: as the stores passed in.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "vqi/base/status.h"
#include "vqi/component/store.h"
#include "vqi/fleet/document.h"
#include "vqi/fleet/shadow.h"
#include "vqi/fleet/shadow_store.h"
#include "vqi/fleet/store.h"

namespace vqi::fleet {

struct PromotionCheck {
  ShadowConfig shadow;
  ShadowAggregate evidence;  // over the deployment's active things
  bool holds = false;
};

// nullopt for a deployment without a shadow rule. The deployment's things are its device
// status records (revoked things left out); their latest stats for the candidate are aggregated.
Result<std::optional<PromotionCheck>> CheckPromotion(FleetStore& fleet, ShadowStore& shadow,
                                                     const Deployment& d);

// The CreateDeployment text that promotes the candidate of `d`: its document with the
// candidate as the live version, without vqiShadow, the inspector's "/Shadow" configuration
// reset, and "vqiPromotion": {from, component, version, rule, evidence, at}.
Result<std::string> PromotionDocument(const Deployment& d, const PromotionCheck& check,
                                      const std::string& at);

// CheckPromotion, and when the rule holds CreateDeployment(same target, PromotionDocument).
// Returns the new deployment's id, or "" when nothing was promoted. The new deployment
// supersedes `d`, so a promotion happens once.
Result<std::string> MaybePromote(FleetStore& fleet, component::Store& components,
                                 ShadowStore& shadow, const Deployment& d, const std::string& at);

// `vqi deployment create --shadow C@V --promote-when RULE --inspector N`: `text` with its
// vqiShadow set from the flags (each flag replaces that key; empty flags change nothing).
// InvalidArgument for a malformed C@V, for --promote-when or --inspector without a shadow
// (in the flags or the document), and the document's own errors at creation.
Result<std::string> WithShadowOptions(std::string_view text, const std::string& shadow,
                                      const std::string& promote_when,
                                      const std::string& inspector);

// What `vqi deployment status` shows about shadows: for a shadow deployment {"shadow":
// {component, version, inspector, promoteWhen, evidence, holds}} (the evidence now, over its
// things), for a promoting one {"promotion": <vqiPromotion>}; an empty object otherwise.
Result<Json> ShadowSummary(FleetStore& fleet, ShadowStore& shadow, const Deployment& d);

// "2026-12-06T10:00:00Z" for a Unix time in milliseconds.
std::string FormatUtcSeconds(int64_t unix_ms);

}  // namespace vqi::fleet
