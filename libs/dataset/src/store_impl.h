// Store internals shared by store.cc and store_split.cc.
#pragma once

#include <string>
#include <vector>

#include "vqi/dataset/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::dataset {

using sqlite::Db;
using sqlite::Stmt;

struct Store::Impl {
  explicit Impl(Db d) : db(std::move(d)) {}
  Db db;
  bool in_transaction = false;
  bool unsynced_blobs = false;  // blobs written since the last SyncBlobs()
};

// Boxes as stored: [[class_id, x, y, w, h], ...]; floats survive the round trip exactly.
std::string BoxesToJson(const std::vector<Box>& boxes);
Result<std::vector<Box>> BoxesFromJson(const std::string& text);

}  // namespace vqi::dataset
