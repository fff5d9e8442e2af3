#include "vqi/yolo/jpeg.h"

#include <algorithm>
#include <cmath>
#include <csetjmp>
#include <cstdio>
#include <cstring>

#include "vqi/yolo/image.h"
#include "vqi/yolo/image_header.h"
#include "vqi/yolo/letterbox.h"

// clang-format off
#include <jpeglib.h>  // after <cstdio>: it needs size_t and FILE
#include <jerror.h>
// clang-format on

namespace vqi::yolo {

namespace {

// libjpeg reports through these: error_exit longjmps back into Decode (never exit()), and the
// warnings that mean missing or damaged image data are remembered and refused afterwards.
struct ErrorMgr {
  jpeg_error_mgr pub;
  std::jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  bool damaged;
};

extern "C" void OnJpegError(j_common_ptr cinfo) {
  auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
  (*cinfo->err->format_message)(cinfo, err->message);
  std::longjmp(err->jump, 1);
}

extern "C" void OnJpegMessage(j_common_ptr cinfo, int level) {
  if (level != -1) return;  // trace messages
  auto* err = reinterpret_cast<ErrorMgr*>(cinfo->err);
  const int code = cinfo->err->msg_code;
  if (!err->damaged && (code == JWRN_JPEG_EOF || code == JWRN_HUFF_BAD_CODE)) {
    err->damaged = true;
    (*cinfo->err->format_message)(cinfo, err->message);
  }
}

enum class Outcome { kOk, kError, kDamaged, kUnsupported, kTooLarge };

// Only plain data lives in this frame: a longjmp out of libjpeg skips no destructor.
Outcome Decode(const unsigned char* data, unsigned long size, int fit_w, int fit_h, bool fast,
               std::vector<uint8_t>* out, JpegPixels* px, ErrorMgr* err) {
  jpeg_decompress_struct cinfo;
  cinfo.err = jpeg_std_error(&err->pub);
  err->pub.error_exit = OnJpegError;
  err->pub.emit_message = OnJpegMessage;
  err->damaged = false;
  err->message[0] = '\0';
  if (setjmp(err->jump)) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kError;
  }
  jpeg_create_decompress(&cinfo);
  jpeg_mem_src(&cinfo, data, size);
  jpeg_read_header(&cinfo, TRUE);
  px->source_width = static_cast<int>(cinfo.image_width);
  px->source_height = static_cast<int>(cinfo.image_height);
  if (cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kUnsupported;
  }
  if (static_cast<int64_t>(cinfo.image_width) * cinfo.image_height > kMaxImagePixels) {
    jpeg_destroy_decompress(&cinfo);
    return Outcome::kTooLarge;
  }
  px->scale_num =
      fit_w > 0 && fit_h > 0 ? JpegScaleFor(px->source_width, px->source_height, fit_w, fit_h) : 8;
  cinfo.scale_num = static_cast<unsigned int>(px->scale_num);
  cinfo.scale_denom = 8;
  cinfo.out_color_space = JCS_EXT_BGR;  // no channel swap afterwards
  // 4:2:0 / 4:2:2: chroma upsampling merged with the colour conversion (no triangle filter).
  if (fast) cinfo.do_fancy_upsampling = FALSE;
  jpeg_start_decompress(&cinfo);
  px->width = static_cast<int>(cinfo.output_width);
  px->height = static_cast<int>(cinfo.output_height);
  const size_t stride = static_cast<size_t>(px->width) * 3;
  out->resize(stride * static_cast<size_t>(px->height));
  while (cinfo.output_scanline < cinfo.output_height) {
    JSAMPROW rows[4];
    for (int i = 0; i < 4; ++i)
      rows[i] = out->data() +
                stride * std::min<size_t>(cinfo.output_scanline + i, cinfo.output_height - 1);
    jpeg_read_scanlines(&cinfo, rows, 4);
  }
  jpeg_finish_decompress(&cinfo);
  jpeg_destroy_decompress(&cinfo);
  return err->damaged ? Outcome::kDamaged : Outcome::kOk;
}

uint32_t Read(const unsigned char* p, int n, bool big_endian) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i)
    v |= static_cast<uint32_t>(p[big_endian ? i : n - 1 - i]) << (8 * (n - 1 - i));
  return v;
}

// The orientation tag (0x0112) of IFD0 in a TIFF block; 1 when absent or unreadable.
int TiffOrientation(const unsigned char* t, size_t n) {
  if (n < 8) return 1;
  bool be;
  if (t[0] == 'I' && t[1] == 'I')
    be = false;
  else if (t[0] == 'M' && t[1] == 'M')
    be = true;
  else
    return 1;
  const uint32_t ifd = Read(t + 4, 4, be);
  if (ifd > n - 2) return 1;
  const uint32_t entries = Read(t + ifd, 2, be);
  for (uint32_t i = 0; i < entries; ++i) {
    const size_t e = ifd + 2 + 12 * static_cast<size_t>(i);
    if (e + 12 > n) return 1;
    if (Read(t + e, 2, be) != 0x0112) continue;
    const uint32_t type = Read(t + e + 2, 2, be);
    if (type != 3) return 1;  // SHORT
    const int v = static_cast<int>(Read(t + e + 8, 2, be));
    return v >= 1 && v <= 8 ? v : 1;
  }
  return 1;
}

}  // namespace

int JpegExifOrientation(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  if (n < 4 || p[0] != 0xFF || p[1] != 0xD8) return 1;
  size_t i = 2;
  while (i + 4 <= n) {
    if (p[i] != 0xFF) return 1;
    const unsigned char marker = p[i + 1];
    if (marker == 0xFF) {  // fill byte
      ++i;
      continue;
    }
    if (marker == 0xDA || marker == 0xD9) return 1;  // image data: no EXIF before it
    const size_t len = (static_cast<size_t>(p[i + 2]) << 8) | p[i + 3];
    if (len < 2 || i + 2 + len > n) return 1;
    if (marker == 0xE1 && len >= 8 && std::memcmp(p + i + 4, "Exif\0\0", 6) == 0)
      return TiffOrientation(p + i + 10, len - 8);
    i += 2 + len;
  }
  return 1;
}

int JpegScaleFor(int width, int height, int fit_w, int fit_h) {
  if (width <= 0 || height <= 0 || fit_w <= 0 || fit_h <= 0) return 8;
  const Letterbox lb = PlanLetterbox(width, height, fit_w, fit_h);
  const int64_t nw = std::lround(width * lb.scale), nh = std::lround(height * lb.scale);
  // Only the scales libjpeg-turbo decodes with SIMD IDCTs (8x8, 4x4, 2x2, 1x1): the others
  // (3/8, 5/8, 6/8, 7/8) run plain C IDCTs and measured slower than full size (450x300 tags:
  // 6/8 0.65 ms, 8/8 0.39 ms, 4/8 0.30 ms, 1/8 0.26 ms p50; bench/image_path_bench).
  for (int k : {1, 2, 4}) {
    const int64_t w = (static_cast<int64_t>(width) * k + 7) / 8;
    const int64_t h = (static_cast<int64_t>(height) * k + 7) / 8;
    if (w >= nw && h >= nh) return k;
  }
  return 8;
}

Result<JpegPixels> DecodeJpeg(std::string_view bytes, const std::string& where, int fit_w,
                              int fit_h, std::vector<uint8_t>* out, bool fast) {
  if (JpegExifOrientation(bytes) != 1)
    return Unimplemented(where + ": EXIF orientation: left to the general decoder");
  JpegPixels px;
  ErrorMgr err;
  switch (Decode(reinterpret_cast<const unsigned char*>(bytes.data()),
                 static_cast<unsigned long>(bytes.size()), fit_w, fit_h, fast, out, &px, &err)) {
    case Outcome::kOk:
      return px;
    case Outcome::kUnsupported:
      return Unimplemented(where + ": CMYK JPEG: left to the general decoder");
    case Outcome::kTooLarge:
      VQI_RETURN_IF_ERROR(
          CheckImagePixels(px.source_width, px.source_height, where, "jpeg header claims"));
      return ResourceExhausted(where + ": too large");  // not reached
    case Outcome::kDamaged:
      return InvalidArgument(where + ": cannot decode JPEG: " + err.message +
                             " (truncated or corrupt image data)");
    case Outcome::kError:
      break;
  }
  return InvalidArgument(where + ": cannot decode JPEG: " + err.message);
}

}  // namespace vqi::yolo
