#include "vqi/yolo/image_header.h"

#include <cstdint>

namespace vqi::yolo {
namespace {

uint32_t Be16(std::string_view b, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(b[at])) << 8) |
         static_cast<unsigned char>(b[at + 1]);
}
uint32_t Be32(std::string_view b, size_t at) { return (Be16(b, at) << 16) | Be16(b, at + 2); }
uint32_t Le16(std::string_view b, size_t at) {
  return static_cast<unsigned char>(b[at]) |
         (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 1])) << 8);
}
uint32_t Le32(std::string_view b, size_t at) { return Le16(b, at) | (Le16(b, at + 2) << 16); }
uint32_t Le24(std::string_view b, size_t at) {
  return Le16(b, at) | (static_cast<uint32_t>(static_cast<unsigned char>(b[at + 2])) << 16);
}

Status Bad(const std::string& format, const std::string& what) {
  return InvalidArgument("corrupt " + format + " header (" + what + ")");
}

// Walks the marker segments up to the first start-of-frame (SOF0..SOF15 except DHT, JPG,
// DAC), which holds the frame size libjpeg decodes.
Result<HeaderDims> Jpeg(std::string_view b) {
  size_t i = 2;
  while (i + 4 <= b.size()) {
    if (static_cast<unsigned char>(b[i]) != 0xFF) return Bad("jpeg", "expected a marker");
    const unsigned char m = static_cast<unsigned char>(b[i + 1]);
    if (m == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) {  // no length
      i += 2;
      continue;
    }
    if (m == 0xD9 || m == 0xDA) return Bad("jpeg", "no frame header before the image data");
    const size_t len = Be16(b, i + 2);
    if (len < 2) return Bad("jpeg", "segment length below 2");
    const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
    if (sof) {
      if (len < 7 || i + 9 > b.size()) return Bad("jpeg", "truncated frame header");
      HeaderDims d{Be16(b, i + 7), Be16(b, i + 5)};
      if (d.width == 0 || d.height == 0)
        return Bad("jpeg", "zero width or height (DNL-defined height is not supported)");
      return d;
    }
    i += 2 + len;
  }
  return Bad("jpeg", "no frame header");
}

Result<HeaderDims> Png(std::string_view b) {
  // Signature (8), IHDR length (4), "IHDR" (4), width (4), height (4).
  if (b.size() < 24 || b.substr(12, 4) != "IHDR") return Bad("png", "no IHDR chunk first");
  HeaderDims d{Be32(b, 16), Be32(b, 20)};
  if (d.width == 0 || d.height == 0 || d.width > 0x7fffffff || d.height > 0x7fffffff)
    return Bad("png", "width or height out of range");
  return d;
}

Result<HeaderDims> Bmp(std::string_view b) {
  if (b.size() < 26) return Bad("bmp", "truncated");
  const uint32_t header = Le32(b, 14);
  HeaderDims d;
  if (header == 12) {  // BITMAPCOREHEADER: 16-bit unsigned sizes
    d = {Le16(b, 18), Le16(b, 20)};
  } else if (header >= 40) {
    const int32_t w = static_cast<int32_t>(Le32(b, 18)), h = static_cast<int32_t>(Le32(b, 22));
    d = {w, h < 0 ? -static_cast<int64_t>(h) : h};  // negative height: top-down rows
    if (w <= 0) return Bad("bmp", "width " + std::to_string(w));
  } else {
    return Bad("bmp", "unknown info header size " + std::to_string(header));
  }
  if (d.width == 0 || d.height == 0) return Bad("bmp", "zero width or height");
  return d;
}

// The first image file directory's ImageWidth (256) and ImageLength (257).
Result<HeaderDims> Tiff(std::string_view b) {
  if (b.size() < 8) return Bad("tiff", "truncated");
  const bool le = b[0] == 'I';
  auto u16 = [&](size_t at) { return le ? Le16(b, at) : Be16(b, at); };
  auto u32 = [&](size_t at) { return le ? Le32(b, at) : Be32(b, at); };
  const uint64_t ifd = u32(4);
  if (ifd < 8 || ifd + 2 > b.size()) return Bad("tiff", "directory offset outside the file");
  const uint32_t entries = u16(ifd);
  if (ifd + 2 + uint64_t{entries} * 12 > b.size()) return Bad("tiff", "truncated directory");
  HeaderDims d;
  for (uint32_t e = 0; e < entries; ++e) {
    const size_t at = ifd + 2 + size_t{e} * 12;
    const uint32_t tag = u16(at), type = u16(at + 2), count = u32(at + 4);
    if ((tag != 256 && tag != 257) || count != 1) continue;
    int64_t v;
    if (type == 3)
      v = u16(at + 8);  // SHORT, left-justified in the value field
    else if (type == 4)
      v = u32(at + 8);  // LONG
    else
      return Bad("tiff", "image size tag of type " + std::to_string(type));
    (tag == 256 ? d.width : d.height) = v;
  }
  if (d.width == 0 || d.height == 0) return Bad("tiff", "no image width or length");
  return d;
}

Result<HeaderDims> Webp(std::string_view b) {
  if (b.size() < 30) return Bad("webp", "truncated");
  const std::string_view chunk = b.substr(12, 4);
  if (chunk == "VP8 ") {
    // Frame tag (3), start code 9d 01 2a, then 14-bit width and height (2 scale bits each).
    if (b.substr(23, 3) != "\x9d\x01\x2a") return Bad("webp", "no VP8 start code");
    return HeaderDims{Le16(b, 26) & 0x3fff, Le16(b, 28) & 0x3fff};
  }
  if (chunk == "VP8L") {
    if (static_cast<unsigned char>(b[20]) != 0x2f) return Bad("webp", "no VP8L signature");
    const uint32_t bits = Le32(b, 21);
    return HeaderDims{(bits & 0x3fff) + 1, ((bits >> 14) & 0x3fff) + 1};
  }
  if (chunk == "VP8X") return HeaderDims{Le24(b, 24) + 1, Le24(b, 27) + 1};
  return Bad("webp", "unknown chunk '" + std::string(chunk) + "'");
}

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

}  // namespace

std::string SniffImageFormat(std::string_view b) {
  if (StartsWith(b, "\xFF\xD8\xFF")) return "jpeg";
  if (StartsWith(b, "\x89PNG\r\n\x1A\n")) return "png";
  if (StartsWith(b, "BM") && b.size() > 26) return "bmp";
  if (StartsWith(b, std::string_view("II*\0", 4)) || StartsWith(b, std::string_view("MM\0*", 4)))
    return "tiff";
  if (StartsWith(b, "RIFF") && b.size() > 12 && b.substr(8, 4) == "WEBP") return "webp";
  return "";
}

bool HasDicomSignature(std::string_view b) { return b.size() >= 132 && b.substr(128, 4) == "DICM"; }

Result<HeaderDims> ReadHeaderDims(const std::string& format, std::string_view bytes) {
  if (format == "jpeg") return Jpeg(bytes);
  if (format == "png") return Png(bytes);
  if (format == "bmp") return Bmp(bytes);
  if (format == "tiff") return Tiff(bytes);
  if (format == "webp") return Webp(bytes);
  return InvalidArgument("unknown image format '" + format + "'");
}

}  // namespace vqi::yolo
