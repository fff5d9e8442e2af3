// Control, evaluation and date/time builtins ($error $assert $eval $now $millis $fromMillis
// $toMillis) and the AWS Step Functions extras ($partition $range $hash $uuid $parse; $random
// with a seed lives with the numeric functions).
#include <openssl/evp.h>

#include <cmath>
#include <cstdio>
#include <ctime>
#include <random>

#include "functions.h"
#include "vqi/base/clock.h"

namespace vqi::jsonata {
namespace {

Result<Value> FnError(Evaluator&, std::vector<Value>& a, const Value&) {
  std::string msg = Arg(a, 0).IsString() ? Arg(a, 0).str() : "$error() function evaluated";
  return JsonataError("D3137", msg);
}

Result<Value> FnAssert(Evaluator&, std::vector<Value>& a, const Value&) {
  if (!Arg(a, 0).boolean()) {
    std::string msg = Arg(a, 1).IsString() ? Arg(a, 1).str() : "$assert() statement failed";
    return JsonataError("D3141", msg);
  }
  return Value();
}

Result<Value> FnEval(Evaluator& ev, std::vector<Value>& a, const Value& input) {
  if (Arg(a, 0).IsUndefined()) return Value();
  return ev.EvalText(Arg(a, 0).str(), Arg(a, 1).IsDefined() ? Arg(a, 1) : input);
}

struct Civil {
  int64_t year;
  int month, day, hour, minute, second, millis, weekday;  // weekday 0 = Sunday
};

Civil ToCivil(int64_t ms) {
  int64_t days = static_cast<int64_t>(std::floor(static_cast<double>(ms) / 86400000.0));
  int64_t rem = ms - days * 86400000;
  Civil c;
  c.hour = static_cast<int>(rem / 3600000);
  c.minute = static_cast<int>(rem / 60000 % 60);
  c.second = static_cast<int>(rem / 1000 % 60);
  c.millis = static_cast<int>(rem % 1000);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday
  int64_t z = days + 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = static_cast<int64_t>(yoe) + era * 400 + (c.month <= 2);
  return c;
}

std::string Pad(int64_t v, int width) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%0*lld", width, static_cast<long long>(v));
  return buf;
}

std::string IsoString(int64_t ms) {
  Civil c = ToCivil(ms);
  return Pad(c.year, 4) + "-" + Pad(c.month, 2) + "-" + Pad(c.day, 2) + "T" + Pad(c.hour, 2) + ":" +
         Pad(c.minute, 2) + ":" + Pad(c.second, 2) + "." + Pad(c.millis, 3) + "Z";
}

// Parses "+hh:mm" / "-hhmm" into minutes; false if malformed.
bool ParseOffset(const std::string& s, int* minutes) {
  if (s.size() < 5 || (s[0] != '+' && s[0] != '-')) return false;
  std::string digits;
  for (size_t i = 1; i < s.size(); ++i) {
    if (s[i] != ':') digits.push_back(s[i]);
  }
  if (digits.size() != 4) return false;
  for (char c : digits) {
    if (c < '0' || c > '9') return false;
  }
  int m = std::stoi(digits.substr(0, 2)) * 60 + std::stoi(digits.substr(2, 2));
  *minutes = s[0] == '-' ? -m : m;
  return true;
}

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                       "Thursday", "Friday", "Saturday"};

std::string NameComponent(const std::string& name, const std::string& pres) {
  std::string out = name;
  if (pres.rfind("n", 0) == 0 && pres != "Nn") {
    for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  } else if (pres.rfind("N", 0) == 0 && pres.rfind("Nn", 0) != 0) {
    for (char& c : out) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  size_t comma = pres.find(',');
  if (comma != std::string::npos) {
    size_t dash = pres.find('-', comma);
    if (dash != std::string::npos) {
      int max = std::atoi(pres.c_str() + dash + 1);
      if (max > 0 && static_cast<int>(out.size()) > max) out.resize(static_cast<size_t>(max));
    }
  }
  return out;
}

std::string NumberComponent(int64_t v, const std::string& pres) {
  std::string p = pres.substr(0, pres.find(','));
  int width = 0;
  for (char c : p) width += (c >= '0' && c <= '9') ? 1 : 0;
  if (width <= 1) return std::to_string(v);
  return Pad(v, width);
}

// A subset of XPath picture strings: [Y] [M] [D] [d] [H] [h] [m] [s] [f] [P] [F] [Z] [z] with
// numeric widths (e.g. [Y0001] [M01] [f001]) and names ([MNn] [FNn,*-3]).
Result<std::string> FormatPicture(int64_t ms, const std::string& picture, int offset_minutes) {
  Civil c = ToCivil(ms + static_cast<int64_t>(offset_minutes) * 60000);
  std::string out;
  for (size_t i = 0; i < picture.size(); ++i) {
    char ch = picture[i];
    if (ch == '[' && i + 1 < picture.size() && picture[i + 1] == '[') {
      out.push_back('[');
      ++i;
      continue;
    }
    if (ch == ']' && i + 1 < picture.size() && picture[i + 1] == ']') {
      out.push_back(']');
      ++i;
      continue;
    }
    if (ch != '[') {
      out.push_back(ch);
      continue;
    }
    size_t end = picture.find(']', i);
    if (end == std::string::npos) {
      return JsonataError("D3135", "No matching closing bracket ']' in date/time picture string");
    }
    std::string marker;
    for (size_t k = i + 1; k < end; ++k) {
      if (!std::isspace(static_cast<unsigned char>(picture[k]))) marker.push_back(picture[k]);
    }
    i = end;
    if (marker.empty()) continue;
    char comp = marker[0];
    std::string pres = marker.substr(1);
    switch (comp) {
      case 'Y':
        out += pres.empty() ? std::to_string(c.year) : NumberComponent(c.year, pres);
        if (pres.rfind("01", 0) == 0 || pres == "00") {
          out.erase(out.size() - std::to_string(c.year).size());
          out += Pad(c.year % 100, 2);
        }
        break;
      case 'M':
        out += !pres.empty() && (pres[0] == 'N' || pres[0] == 'n')
                   ? NameComponent(kMonths[c.month - 1], pres)
                   : NumberComponent(c.month, pres);
        break;
      case 'D':
        out += NumberComponent(c.day, pres);
        break;
      case 'd':
        out += NumberComponent(
            DaysFromCivil(c.year, static_cast<unsigned>(c.month), static_cast<unsigned>(c.day)) -
                DaysFromCivil(c.year, 1, 1) + 1,
            pres);
        break;
      case 'F':
        out += !pres.empty() && (pres[0] == 'N' || pres[0] == 'n')
                   ? NameComponent(kDays[c.weekday], pres)
                   : NumberComponent(c.weekday == 0 ? 7 : c.weekday, pres);
        break;
      case 'H':
        out += NumberComponent(c.hour, pres);
        break;
      case 'h':
        out += NumberComponent(c.hour % 12 == 0 ? 12 : c.hour % 12, pres);
        break;
      case 'm':
        out += NumberComponent(c.minute, pres.empty() ? "01" : pres);
        break;
      case 's':
        out += NumberComponent(c.second, pres.empty() ? "01" : pres);
        break;
      case 'f': {
        std::string ms3 = Pad(c.millis, 3);
        int width = 0;
        for (char p : pres) width += (p >= '0' && p <= '9') ? 1 : 0;
        if (width == 0) width = 3;
        out += width <= 3 ? ms3.substr(0, static_cast<size_t>(width))
                          : ms3 + std::string(static_cast<size_t>(width - 3), '0');
        break;
      }
      case 'P':
        out += pres.rfind("N", 0) == 0 ? (c.hour < 12 ? "AM" : "PM") : (c.hour < 12 ? "am" : "pm");
        break;
      case 'Z':
      case 'z': {
        if (comp == 'Z' && pres == "Z" && offset_minutes == 0) {
          out += "Z";
          break;
        }
        int m = std::abs(offset_minutes);
        std::string tz = std::string(offset_minutes < 0 ? "-" : "+") + Pad(m / 60, 2) +
                         (pres == "0000" ? "" : ":") + Pad(m % 60, 2);
        out += comp == 'z' ? "GMT" + tz : tz;
        break;
      }
      default:
        return JsonataError("D3132", "Unknown component specifier " + std::string(1, comp) +
                                         " in date/time picture string");
    }
  }
  return out;
}

Result<Value> FromMillis(int64_t ms, const Value& picture, const Value& tz) {
  int offset = 0;
  if (tz.IsString() && !ParseOffset(tz.str(), &offset)) {
    return JsonataError("D3134",
                        "The timezone integer format specifier cannot have more than "
                        "four digits");
  }
  if (picture.IsUndefined() && tz.IsUndefined()) return Value::String(IsoString(ms));
  std::string pic =
      picture.IsString() ? picture.str() : "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01].[f001][Z01:01t]";
  if (picture.IsUndefined()) {
    VQI_ASSIGN_OR_RETURN(std::string s, FormatPicture(ms,
                                                      "[Y0001]-[M01]-[D01]T[H01]:[m01]:[s01]."
                                                      "[f001]",
                                                      offset));
    int m = std::abs(offset);
    return Value::String(s + (offset == 0 ? "Z"
                                          : std::string(offset < 0 ? "-" : "+") + Pad(m / 60, 2) +
                                                ":" + Pad(m % 60, 2)));
  }
  VQI_ASSIGN_OR_RETURN(std::string s, FormatPicture(ms, pic, offset));
  return Value::String(s);
}

Result<Value> FnNow(Evaluator& ev, std::vector<Value>& a, const Value&) {
  return FromMillis(ev.now_millis(), Arg(a, 0), Arg(a, 1));
}

Result<Value> FnMillis(Evaluator& ev, std::vector<Value>&, const Value&) {
  return Value::Number(static_cast<double>(ev.now_millis()));
}

Result<Value> FnFromMillis(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  double ms = Arg(a, 0).number();
  if (std::fabs(ms) > 8.64e15) return JsonataError("D3139", "Invalid time value");
  return FromMillis(static_cast<int64_t>(std::floor(ms)), Arg(a, 1), Arg(a, 2));
}

// ISO 8601: YYYY[-MM[-DD[Thh:mm[:ss[.fff]][Z|±hh:mm|±hhmm]]]].
bool ParseIso(const std::string& s, int64_t* ms) {
  int y = 0, mo = 1, d = 1, h = 0, mi = 0, sec = 0;
  double frac = 0;
  size_t i = 0;
  auto num = [&](int digits, int* out) {
    if (i + static_cast<size_t>(digits) > s.size()) return false;
    int v = 0;
    for (int k = 0; k < digits; ++k) {
      char c = s[i + static_cast<size_t>(k)];
      if (c < '0' || c > '9') return false;
      v = v * 10 + (c - '0');
    }
    *out = v;
    i += static_cast<size_t>(digits);
    return true;
  };
  if (!num(4, &y)) return false;
  if (i < s.size() && s[i] == '-') {
    ++i;
    if (!num(2, &mo)) return false;
    if (i < s.size() && s[i] == '-') {
      ++i;
      if (!num(2, &d)) return false;
    }
  }
  int offset = 0;
  if (i < s.size() && (s[i] == 'T' || s[i] == ' ')) {
    ++i;
    if (!num(2, &h) || i >= s.size() || s[i] != ':') return false;
    ++i;
    if (!num(2, &mi)) return false;
    if (i < s.size() && s[i] == ':') {
      ++i;
      if (!num(2, &sec)) return false;
      if (i < s.size() && (s[i] == '.' || s[i] == ',')) {
        size_t start = i;
        ++i;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
        if (i == start + 1) return false;
        frac = std::strtod(("0." + s.substr(start + 1, i - start - 1)).c_str(), nullptr);
      }
    }
    if (i < s.size()) {
      if (s[i] == 'Z') {
        ++i;
      } else {
        if (!ParseOffset(s.substr(i), &offset)) return false;
        i = s.size();
      }
    }
  }
  if (i != s.size()) return false;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 24 || mi > 59 || sec > 60) return false;
  int64_t days = DaysFromCivil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  *ms = ((days * 24 + h) * 60 + mi - offset) * 60000LL + sec * 1000LL +
        static_cast<int64_t>(std::llround(frac * 1000));
  return true;
}

Result<Value> FnToMillis(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  if (Arg(a, 1).IsDefined()) {
    return JsonataError("D3136", "$toMillis() with a picture string is not supported");
  }
  int64_t ms;
  if (!ParseIso(Arg(a, 0).str(), &ms)) {
    return JsonataError("D3110",
                        "Argument 1 of function \"toMillis\" is not an ISO 8601 "
                        "timestamp: " +
                            Quote(Arg(a, 0).str()));
  }
  return Value::Number(static_cast<double>(ms));
}

Result<Value> FnPartition(Evaluator&, std::vector<Value>& a, const Value&) {
  const Value& arr = Arg(a, 0);
  if (arr.IsUndefined()) return Value();
  double size = Arg(a, 1).number();
  if (!(size >= 1) || std::floor(size) != size) {
    return JsonataError("D3150", "The chunk size of $partition must be a positive integer: " +
                                     ValueText(Arg(a, 1)));
  }
  std::vector<Value> out;
  size_t n = static_cast<size_t>(std::min(size, 1e9));
  for (size_t i = 0; i < arr.size(); i += n) {
    std::vector<Value> chunk;
    for (size_t k = i; k < arr.size() && k < i + n; ++k) chunk.push_back(arr.at(k));
    out.push_back(MakeArray(std::move(chunk)));
  }
  return MakeArray(std::move(out));
}

Result<Value> FnRange(Evaluator& ev, std::vector<Value>& a, const Value&) {
  double start = Arg(a, 0).number(), end = Arg(a, 1).number();
  double step = Arg(a, 2).IsDefined() ? Arg(a, 2).number() : 1;
  if (Arg(a, 0).IsUndefined() || Arg(a, 1).IsUndefined()) return Value();
  if (step == 0 || !std::isfinite(step)) {
    return JsonataError("D3151", "The step of $range must be a non-zero number");
  }
  double count = std::floor((end - start) / step) + 1;
  if (count > 1e7) {
    return JsonataError("D2014",
                        "The size of the sequence allocated by the range operator (..) "
                        "must not exceed 1e7.  Attempted to allocate " +
                            FormatJsNumber(count) + ".");
  }
  if (!(count > 0)) return MakeSequence({});                        // also NaN
  VQI_RETURN_IF_ERROR(ev.Charge(1 + static_cast<int64_t>(count)));  // D1013 before allocating
  std::vector<Value> out;
  out.reserve(static_cast<size_t>(count));
  for (double i = 0; i < count; ++i) out.push_back(Value::Number(start + i * step));
  Value seq = MakeSequence(std::move(out));
  if (Array* arr = seq.owned_array()) arr->charged = true;
  return seq;
}

Result<Value> FnHash(Evaluator&, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  const std::string algo = Arg(a, 1).IsString() ? Arg(a, 1).str() : "SHA-256";
  const EVP_MD* md = algo == "MD5"       ? EVP_md5()
                     : algo == "SHA-1"   ? EVP_sha1()
                     : algo == "SHA-256" ? EVP_sha256()
                     : algo == "SHA-384" ? EVP_sha384()
                     : algo == "SHA-512" ? EVP_sha512()
                                         : nullptr;
  if (!md) {
    return JsonataError("D3152", "The hashing algorithm " + Quote(algo) +
                                     " is not supported; use one of MD5, SHA-1, SHA-256, "
                                     "SHA-384, SHA-512");
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  const std::string& data = Arg(a, 0).str();
  if (EVP_Digest(data.data(), data.size(), digest, &len, md, nullptr) != 1) {
    return Internal("jsonata: EVP_Digest failed");
  }
  std::string hex;
  static const char* kHex = "0123456789abcdef";
  for (unsigned int i = 0; i < len; ++i) {
    hex.push_back(kHex[digest[i] >> 4]);
    hex.push_back(kHex[digest[i] & 15]);
  }
  return Value::String(std::move(hex));
}

Result<Value> FnUuid(Evaluator&, std::vector<Value>&, const Value&) {
  thread_local std::mt19937_64 engine(std::random_device{}());
  uint64_t hi = engine(), lo = engine();
  hi = (hi & 0xFFFFFFFFFFFF0FFFULL) | 0x0000000000004000ULL;
  lo = (lo & 0x3FFFFFFFFFFFFFFFULL) | 0x8000000000000000ULL;
  char buf[40];
  std::snprintf(buf, sizeof(buf), "%08llx-%04llx-%04llx-%04llx-%012llx",
                static_cast<unsigned long long>(hi >> 32),
                static_cast<unsigned long long>((hi >> 16) & 0xFFFF),
                static_cast<unsigned long long>(hi & 0xFFFF),
                static_cast<unsigned long long>(lo >> 48),
                static_cast<unsigned long long>(lo & 0xFFFFFFFFFFFFULL));
  return Value::String(buf);
}

Result<Value> FnParse(Evaluator& ev, std::vector<Value>& a, const Value&) {
  if (Arg(a, 0).IsUndefined()) return Value();
  // A JSON text of n bytes holds at most ~n/2 values; counted before parsing (D1013).
  VQI_RETURN_IF_ERROR(ev.Charge(1 + static_cast<int64_t>(Arg(a, 0).str().size() / 2)));
  // ParseJson: nesting beyond kMaxJsonDepth (128) is refused like invalid JSON.
  auto j = ParseJson(Arg(a, 0).str(), "$parse");
  if (!j.ok()) {
    if (j.status().code() == StatusCode::kResourceExhausted)
      return JsonataError("D3153", "The argument of $parse " + j.status().message());
    return JsonataError("D3153",
                        "The argument of $parse is not valid JSON: " + Quote(Arg(a, 0).str()));
  }
  return ev.Keep(std::move(*j));
}

}  // namespace

std::vector<BuiltinDef> MiscBuiltins() {
  return {
      {"error", "<s?:x>", FnError},
      {"assert", "<bs?:x>", FnAssert},
      {"eval", "<sx?:x>", FnEval},
      {"now", "<s?s?:s>", FnNow},
      {"millis", "<:n>", FnMillis},
      {"fromMillis", "<n-s?s?:s>", FnFromMillis},
      {"toMillis", "<s-s?:n>", FnToMillis},
      {"partition", "<an:a>", FnPartition},
      {"range", "<nnn?:a>", FnRange},
      {"hash", "<s-s?:s>", FnHash},
      {"uuid", "<:s>", FnUuid},
      {"parse", "<s-:j>", FnParse},
  };
}

}  // namespace vqi::jsonata
