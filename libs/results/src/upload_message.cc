// ParseUploadMessage: the defensive reading of a device's upload (docs/design/results.md).
#include "vqi/results/upload_message.h"

#include <cmath>

#include "message_text.h"
#include "vqi/base/hash.h"
#include "vqi/base/json.h"
#include "vqi/ipc_client/frame.h"
#include "vqi/transport/topics.h"

namespace vqi::results {
namespace {

namespace topics = transport::topics;

constexpr size_t kMaxTextBytes = 256;

using internal::IsHex64;
using internal::Quote;

// The string at obj[key] (absent or null: ""), at most `max` bytes. `path` names it.
Status Text(const Json& obj, const char* key, const std::string& path, std::string* out,
            size_t max = kMaxTextBytes) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_string()) return InvalidArgument(path + key + ": expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > max)
    return InvalidArgument(path + key + ": " + std::to_string(s.size()) + " bytes; at most " +
                           std::to_string(max));
  *out = s;
  return Status::Ok();
}

// The first of several spellings present in `obj` (metadata is the uploader's).
Status AnyText(const Json& obj, std::initializer_list<const char*> keys, std::string* out) {
  for (const char* k : keys) {
    if (!obj.contains(k) || obj[k].is_null()) continue;
    return Text(obj, k, "metadata.", out);
  }
  return Status::Ok();
}

Status Nested(const Json& obj, const char* object, const char* key, std::string* out) {
  auto it = obj.find(object);
  if (it == obj.end() || it->is_null()) return Status::Ok();
  if (!it->is_object())
    return InvalidArgument(std::string("metadata.") + object + ": expected an object");
  return Text(*it, key, std::string("metadata.") + object + ".", out);
}

Status ReadMetadata(const Json& m, const topics::Parsed& t, ParsedUpload* u) {
  if (!m.is_object()) return InvalidArgument("metadata: expected an object");
  std::string thing, component, image_id;
  VQI_RETURN_IF_ERROR(Text(m, "thing", "metadata.", &thing));
  if (!thing.empty() && thing != t.thing)
    return PermissionDenied("metadata.thing: " + Quote(thing) + " is not the topic's thing \"" +
                            t.thing + "\"");
  VQI_RETURN_IF_ERROR(Text(m, "component", "metadata.", &component));
  if (!component.empty() && component != t.component)
    return PermissionDenied("metadata.component: " + Quote(component) +
                            " is not the topic's component \"" + t.component + "\"");
  VQI_RETURN_IF_ERROR(Nested(m, "model", "name", &u->model_name));
  if (u->model_name.empty()) VQI_RETURN_IF_ERROR(AnyText(m, {"modelName"}, &u->model_name));
  VQI_RETURN_IF_ERROR(Nested(m, "model", "version", &u->model_version));
  if (u->model_version.empty())
    VQI_RETURN_IF_ERROR(AnyText(m, {"modelVersion"}, &u->model_version));
  VQI_RETURN_IF_ERROR(AnyText(m, {"resultId", "result_id", "id"}, &u->result_id));
  if (!u->result_id.empty() && u->result_id.rfind(t.thing + ":", 0) != 0)
    return PermissionDenied("metadata.resultId: " + Quote(u->result_id) +
                            " does not start with the topic's thing \"" + t.thing + ":\"");
  VQI_RETURN_IF_ERROR(Nested(m, "image", "name", &u->image_name));
  if (u->image_name.empty())
    VQI_RETURN_IF_ERROR(AnyText(m, {"imageName", "image_name"}, &u->image_name));
  VQI_RETURN_IF_ERROR(Nested(m, "image", "id", &image_id));
  if (image_id.empty()) VQI_RETURN_IF_ERROR(AnyText(m, {"imageId"}, &image_id));
  if (!image_id.empty() && image_id != u->sha256)
    return InvalidArgument("metadata.image.id: " + Quote(image_id) +
                           " is not the sha256 of the uploaded bytes (" + u->sha256 + ")");
  for (const char* k : {"bestScore", "best_score"}) {
    if (!m.contains(k) || m[k].is_null()) continue;
    const Json& v = m[k];
    const double s = v.is_number() ? v.get<double>() : -1;
    if (!v.is_number() || !std::isfinite(s) || s < 0 || s > 1)
      return InvalidArgument(std::string("metadata.") + k + ": expected a number in [0, 1]");
    u->best_score = s;
    break;
  }
  return Status::Ok();
}

Status ReadFields(const Json& j, const topics::Parsed& t, size_t max_file_bytes, ParsedUpload* u) {
  if (!j.is_object()) return InvalidArgument("expected a JSON object");
  std::string kind, thing, component;
  VQI_RETURN_IF_ERROR(Text(j, "kind", "", &kind));
  if (kind != "upload") return InvalidArgument("kind: " + Quote(kind) + "; accepted: \"upload\"");
  VQI_RETURN_IF_ERROR(Text(j, "thing", "", &thing));
  if (thing != t.thing)
    return PermissionDenied("thing: " + Quote(thing) + " is not the topic's thing \"" + t.thing +
                            "\"");
  VQI_RETURN_IF_ERROR(Text(j, "component", "", &component));
  if (component != t.component)
    return PermissionDenied("component: " + Quote(component) + " is not the topic's component \"" +
                            t.component + "\"");
  VQI_RETURN_IF_ERROR(Text(j, "vqiMessageId", "", &u->message_id, 128));
  if (u->message_id.empty())
    return InvalidArgument(
        "vqiMessageId: missing (the agent's spool sets it; resends are "
        "dropped by it)");
  VQI_RETURN_IF_ERROR(Text(j, "name", "", &u->name, 255));
  if (u->name.empty()) return InvalidArgument("name: missing");
  if (u->name.find('/') != std::string::npos)
    return InvalidArgument("name: " + Quote(u->name) + " must not contain '/'");
  VQI_RETURN_IF_ERROR(Text(j, "contentType", "", &u->content_type, 128));
  VQI_RETURN_IF_ERROR(Text(j, "sha256", "", &u->sha256));
  if (!IsHex64(u->sha256))
    return InvalidArgument("sha256: " + Quote(u->sha256) + "; expected 64 lowercase hex digits");
  auto size = j.find("size");
  if (size == j.end() || !size->is_number_unsigned())
    return InvalidArgument("size: expected a non-negative integer");
  const uint64_t declared = size->get<uint64_t>();
  if (declared > max_file_bytes)
    return ResourceExhausted("size: " + std::to_string(declared) + " bytes; the limit is " +
                             std::to_string(max_file_bytes));
  auto data = j.find("dataBase64");
  if (data == j.end() || !data->is_string())
    return InvalidArgument("dataBase64: expected a string");
  const auto& b64 = data->get_ref<const std::string&>();
  if (b64.size() > (max_file_bytes + 2) / 3 * 4)
    return ResourceExhausted("dataBase64: " + std::to_string(b64.size()) +
                             " characters; more than a file of " + std::to_string(max_file_bytes) +
                             " bytes");
  auto bytes = ipc::Base64Decode(b64);
  if (!bytes.ok()) return InvalidArgument("dataBase64: " + bytes.status().message());
  u->bytes = std::move(*bytes);
  if (u->bytes.size() != declared)
    return InvalidArgument("size: " + std::to_string(declared) + " but dataBase64 decodes to " +
                           std::to_string(u->bytes.size()) + " bytes");
  const std::string digest = Sha256Hex(u->bytes);
  if (digest != u->sha256)
    return InvalidArgument("sha256: " + u->sha256 + " but the decoded bytes hash to " + digest);
  if (auto m = j.find("metadata"); m != j.end() && !m->is_null())
    VQI_RETURN_IF_ERROR(ReadMetadata(*m, t, u));
  return Status::Ok();
}

}  // namespace

Result<ParsedUpload> ParseUploadMessage(std::string_view topic, std::string_view payload,
                                        size_t max_file_bytes) {
  auto t = topics::Parse(topic);
  if (!t.ok()) return t.status();
  if (t->kind != topics::Kind::kResults || t->sub != topics::kUploadSub)
    return InvalidArgument("topic " + Quote(topic) +
                           " is not vqi/v1/results/<thing>/<component>/upload");
  const std::string where = "upload on " + std::string(topic);
  const size_t max_message = (max_file_bytes + 2) / 3 * 4 + kMaxUploadMessageOverhead;
  if (payload.size() > max_message)
    return ResourceExhausted(where + ": " + std::to_string(payload.size()) +
                             " bytes; the limit is " + std::to_string(max_message));
  auto j = ParseJson(payload, where);
  if (!j.ok()) return InvalidArgument(j.status().message());
  ParsedUpload u;
  u.thing = t->thing;
  u.component = t->component;
  Status st = ReadFields(*j, *t, max_file_bytes, &u);
  if (!st.ok()) return Status(st.code(), where + ": " + st.message());
  return u;
}

}  // namespace vqi::results
