// Small parsers for the Ground-Truth export: RFC 4180 CSV and the Python-literal annotation
// lists (`[{'class_id': 0, 'top': 1, ...}, ...]`). Errors are values naming the position.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"

namespace vqi::dataset {

struct CsvRecord {
  int line = 0;                     // 1-based line where the record starts
  std::vector<std::string> fields;  // empty when `error` is set
  std::string error;                // malformed record (e.g. a stray or unterminated quote)
};

// Splits `text` into records. A malformed record is returned with `error` set and parsing
// resumes at the next line; an unterminated quote ends the input.
std::vector<CsvRecord> ParseCsv(std::string_view text);

// One dict per element; values must be numbers (ints or floats, optionally signed).
// InvalidArgument naming the character offset for anything else.
Result<std::vector<std::map<std::string, double>>> ParsePythonDictList(std::string_view text);

}  // namespace vqi::dataset
