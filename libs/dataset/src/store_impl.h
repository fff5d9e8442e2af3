// Store internals shared by store.cc and store_split.cc.
#pragma once

#include <string>
#include <vector>

#include "vqi/blob/blob_store.h"
#include "vqi/dataset/store.h"
#include "vqi/sqlite/sqlite.h"

namespace vqi::dataset {

using sqlite::Db;
using sqlite::Stmt;

struct Store::Impl {
  Impl(Db d, std::unique_ptr<blob::BlobStore> b) : db(std::move(d)), blobs(std::move(b)) {}
  Db db;
  // Batch durability: Transaction() syncs the blobs once before the commit that references them.
  std::unique_ptr<blob::BlobStore> blobs;
  bool in_transaction = false;
};

// Boxes as stored: [[class_id, x, y, w, h], ...]; floats survive the round trip exactly.
std::string BoxesToJson(const std::vector<Box>& boxes);
Result<std::vector<Box>> BoxesFromJson(const std::string& text);

}  // namespace vqi::dataset
