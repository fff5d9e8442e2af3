// ParseDriftMessage and the "drift" sub-kind handler (docs/design/results.md "Drift").
#include "vqi/results/drift_message.h"

#include "message_text.h"
#include "vqi/base/json.h"

namespace vqi::results {
namespace {

constexpr size_t kMaxStringBytes = 256;

using internal::Quote;

Status Str(const Json& obj, const char* key, const std::string& path, std::string* out,
           bool required) {
  auto it = obj.find(key);
  if (it == obj.end() || it->is_null())
    return required ? InvalidArgument(path + key + ": missing (a string)") : Status::Ok();
  if (!it->is_string()) return InvalidArgument(path + key + ": expected a string");
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxStringBytes)
    return InvalidArgument(path + key + ": " + std::to_string(s.size()) + " bytes; at most " +
                           std::to_string(kMaxStringBytes));
  *out = s;
  return Status::Ok();
}

Status Fields(const Json& j, const SubKindMessage& m, ParsedDrift* d) {
  if (!j.is_object()) return InvalidArgument("expected a JSON object");
  std::string schema, thing, component, state;
  VQI_RETURN_IF_ERROR(Str(j, "schema", "", &schema, true));
  if (schema != kDriftSchema)
    return InvalidArgument("schema: " + Quote(schema) + "; accepted: \"" +
                           std::string(kDriftSchema) + "\"");
  VQI_RETURN_IF_ERROR(Str(j, "thing", "", &thing, true));
  if (thing != m.thing)
    return PermissionDenied("thing: " + Quote(thing) + " is not the topic's thing \"" + m.thing +
                            "\"");
  VQI_RETURN_IF_ERROR(Str(j, "component", "", &component, true));
  if (component != m.component)
    return PermissionDenied("component: " + Quote(component) + " is not the topic's component \"" +
                            m.component + "\"");
  VQI_RETURN_IF_ERROR(Str(j, "id", "", &d->id, true));
  if (d->id.rfind(m.thing + ":", 0) != 0)
    return PermissionDenied("id: " + Quote(d->id) + " does not start with the topic's thing \"" +
                            m.thing + ":\"");
  VQI_RETURN_IF_ERROR(Str(j, "state", "", &state, true));
  if (state != "raised" && state != "cleared")
    return InvalidArgument("state: " + Quote(state) + "; accepted: raised, cleared");
  d->raised = state == "raised";
  VQI_ASSIGN_OR_RETURN(d->drift, ParseDriftField(j, ""));
  if (d->drift.alert != d->raised)
    return InvalidArgument("alert: " + std::string(d->drift.alert ? "true" : "false") +
                           " contradicts state " + Quote(state));
  VQI_RETURN_IF_ERROR(Str(j, "timestamp", "", &d->timestamp, false));
  if (auto it = j.find("model"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("model: expected an object");
    VQI_RETURN_IF_ERROR(Str(*it, "name", "model.", &d->model_name, false));
    VQI_RETURN_IF_ERROR(Str(*it, "version", "model.", &d->model_version, false));
  }
  if (auto it = j.find("image"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return InvalidArgument("image: expected an object");
    VQI_RETURN_IF_ERROR(Str(*it, "name", "image.", &d->image_name, false));
  }
  return Status::Ok();
}

class DriftHandler : public SubKindHandler {
 public:
  explicit DriftHandler(std::shared_ptr<ResultStore> store) : store_(std::move(store)) {}
  std::vector<Result<SubKindOutcome>> HandleBatch(
      const std::vector<SubKindMessage>& messages) override {
    std::vector<Result<SubKindOutcome>> out(messages.size(), SubKindOutcome::kHandled);
    std::vector<ParsedDrift> ok;
    std::vector<size_t> at;
    for (size_t i = 0; i < messages.size(); ++i) {
      auto d = ParseDriftMessage(messages[i]);
      if (!d.ok()) {
        out[i] = d.status();
        continue;
      }
      ok.push_back(std::move(*d));
      at.push_back(i);
    }
    if (ok.empty()) return out;
    auto added = store_->AddDriftAlerts(ok);
    for (size_t k = 0; k < ok.size(); ++k) {
      if (!added.ok())
        out[at[k]] = added.status();
      else
        out[at[k]] = (*added)[k] == AddOutcome::kStored ? SubKindOutcome::kHandled
                                                        : SubKindOutcome::kDuplicate;
    }
    return out;
  }

 private:
  std::shared_ptr<ResultStore> store_;
};

}  // namespace

Result<ParsedDrift> ParseDriftMessage(const SubKindMessage& m) {
  const std::string where = "drift message on " + m.topic;
  if (m.payload.size() > kMaxDriftMessageBytes)
    return ResourceExhausted(where + ": " + std::to_string(m.payload.size()) +
                             " bytes; the limit is " + std::to_string(kMaxDriftMessageBytes));
  auto j = ParseJson(m.payload, where);
  if (!j.ok()) return InvalidArgument(j.status().message());
  ParsedDrift d;
  d.thing = m.thing;
  d.component = m.component;
  Status st = Fields(*j, m, &d);
  if (!st.ok()) return Status(st.code(), where + ": " + st.message());
  d.payload = m.payload;
  return d;
}

std::shared_ptr<SubKindHandler> MakeDriftHandler(std::shared_ptr<ResultStore> store) {
  return std::make_shared<DriftHandler>(std::move(store));
}

}  // namespace vqi::results
