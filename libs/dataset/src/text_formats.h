// Small parsers for the Ground-Truth export: RFC 4180 CSV and the Python-literal annotation
// lists (`[{'class_id': 0, 'top': 1, ...}, ...]`). Errors are values naming the position.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "vqi/base/status.h"
#include "vqi/dataset/text.h"

namespace vqi::dataset {

struct CsvRecord {
  int line = 0;                     // 1-based line where the record starts
  std::vector<std::string> fields;  // empty when `error` is set
  std::string error;                // malformed record (e.g. a stray or unterminated quote)
};

// Splits `text` into records. A UTF-8 byte-order mark at the start is skipped; records end
// at "\r\n", "\n" or a lone "\r" (old Mac files), and lines are counted the same way. A malformed
// record is returned with `error` set and parsing resumes at the next line; an unterminated quote
// ends the input.
std::vector<CsvRecord> ParseCsv(std::string_view text);

// One dict per element; values must be numbers (ints or floats, optionally signed).
// InvalidArgument naming the character offset for anything else.
Result<std::vector<std::map<std::string, double>>> ParsePythonDictList(std::string_view text);

// Lines of a text file: a leading UTF-8 byte-order mark is skipped; lines end at "\r\n", "\n"
// or a lone "\r". The views point into `text`.
std::vector<std::string_view> SplitLines(std::string_view text);

}  // namespace vqi::dataset
