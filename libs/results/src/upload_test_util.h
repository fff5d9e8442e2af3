// Test helpers: the upload message an agent's spool sends for an IPC UploadFile
// (libs/agent ipc_ops.cc + spool.cc), with the metadata vqi-inspect attaches.
#pragma once

#include <string>

#include "test_util.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/ipc_client/frame.h"

namespace vqi::results::testing {

inline Json UploadDoc(const std::string& thing, const std::string& bytes,
                      const std::string& message_id, const std::string& model_version = "1.2.0",
                      const std::string& component = "vqi.inspect") {
  const std::string sha = Sha256Hex(bytes);
  return Json{{"kind", "upload"},
              {"thing", thing},
              {"component", component},
              {"name", "frame-" + sha.substr(0, 8) + ".bmp"},
              {"contentType", "image/bmp"},
              {"size", bytes.size()},
              {"sha256", sha},
              {"metadata",
               {{"thing", thing},
                {"component", component},
                {"model", {{"name", "tags"}, {"version", model_version}}},
                {"resultId", thing + ":" + sha},
                {"bestScore", 0.45},
                {"image", {{"id", sha}, {"name", "frame-" + sha.substr(0, 8) + ".bmp"}}}}},
              {"dataBase64", ipc::Base64Encode(bytes)},
              {"vqiMessageId", message_id}};
}

inline std::string UploadTopicOf(const std::string& thing,
                                 const std::string& component = "vqi.inspect") {
  return transport::topics::UploadTopic(thing, component);
}

}  // namespace vqi::results::testing
