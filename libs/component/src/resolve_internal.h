// Pieces of the resolver shared by resolve.cc (search) and resolve_order.cc (messages, install
// order, cycle and depth checks). Not part of the public API.
#pragma once

#include <string>
#include <vector>

#include "vqi/component/resolve.h"

namespace vqi::component::internal {

// A requirement with its parsed range.
struct Req {
  Requirement requirement;
  Range range;
};

// The search's answer for one component: `version` null when the platform provides it.
struct Chosen {
  std::string name;
  const CatalogueVersion* version = nullptr;
  std::string provided_detail;
  std::vector<Req> reqs;
};

// "deployment A requires 2.1.0; com.example.Inference 1.0.0 requires >=1.0.0 <2.0.0 (SOFT)".
std::string Requirers(const std::vector<Req>& reqs);

// FailedPrecondition: "<name>: no version satisfies every requirement: <requirers>; available:
// 1.0.0, 1.5.0" (`versions` highest first, as the solver keeps them).
Status Conflict(const std::string& name, const std::vector<Req>& reqs,
                const std::vector<CatalogueVersion>& versions);

// Builds the result from a complete assignment: install order (dependencies first, ties by
// name), then refuses a cycle (InvalidArgument naming it) and a chain longer than
// limits.max_depth (ResourceExhausted).
Result<Resolution> Finish(const std::vector<Chosen>& chosen, const ResolveLimits& limits);

}  // namespace vqi::component::internal
