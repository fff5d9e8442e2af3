// Private helpers shared by the definition parser files.
#pragma once

#include <memory>
#include <string>

#include "vqi/workflow/definition.h"
#include "vqi/workflow/limits.h"

namespace vqi::workflow {

Result<std::shared_ptr<StateMachine>> ParseMachine(const Json& def, const std::string& where,
                                                   QueryLanguage inherited);
Status ParseState(const Json& sj, const std::string& sw, QueryLanguage inherited, State* st);
Status ParseRetryCatch(const Json& sj, const std::string& sw, State* st);
Status ParseTask(const Json& sj, const std::string& sw, State* st);
Status ParseChoice(const Json& sj, const std::string& sw, State* st);
Status ParseWait(const Json& sj, const std::string& sw, State* st);
Status ParseFail(const Json& sj, const std::string& sw, State* st);
Status ParseParallel(const Json& sj, const std::string& sw, State* st);
Status ParseMap(const Json& sj, const std::string& sw, State* st);
// Cross-state rules: StartAt and Next targets exist in their own scope.
Status ValidateMachine(const StateMachine& m);

Status CheckPath(const Json& v, const std::string& field, bool allow_null, bool allow_vars);
Result<PathField> ParsePathField(const Json& s, const char* name, const std::string& where,
                                 bool allow_vars);
JsonField Field(const Json& s, const char* name);
Result<std::string> StringField(const Json& s, const char* name, const std::string& where,
                                bool required);
// A number field (or a JSONata expression, checked for syntax only) in [min, max].
Status CheckNumberOrExpr(const JsonField& f, const std::string& field, bool integer, double min,
                         double max = 1e300);
// Payload templates: ".$" keys hold valid paths / intrinsic calls; "{% %}" strings parse.
Status CheckPayload(const JsonField& f, const std::string& field, bool jsonata);
Status CheckJsonataExpr(const std::string& expr);
Status CheckIntrinsicSyntax(const std::string& text);
std::string JsonNumberText(double d);

}  // namespace vqi::workflow
