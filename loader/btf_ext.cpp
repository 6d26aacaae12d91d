// BtfExt: parsing of the .BTF.ext header and its three record sections.
#include "loader/btf_ext.hpp"

#include <string>

#include "loader/byte_reader.hpp"

namespace bpfvm::loader {

namespace {

Error malformed(std::string reason) { return make_error(Errc::Malformed, ".BTF.ext: " + std::move(reason)); }

// One info section: u32 record size, then blocks {sec_name_off, num_info, records[num_info]}.
template <class Record, class Decode>
Result<std::vector<BtfExtSection<Record>>> parse_info(ByteReader r, std::uint64_t off, std::uint64_t len,
                                                     std::size_t min_record, const char* what, const Btf& btf,
                                                     Decode decode) {
  std::vector<BtfExtSection<Record>> out;
  if (len == 0) return out;
  if (len < 4 || !r.fits(off, len)) return malformed(std::string(what) + " [" + std::to_string(off) + ", +" + std::to_string(len) + ") is outside the section");
  const std::uint32_t rec_size = r.u32(off);
  if (rec_size < min_record || rec_size % 4 || rec_size > 1024)
    return malformed(std::string(what) + " record size " + std::to_string(rec_size) + " is invalid");
  std::uint64_t pos = off + 4;
  const std::uint64_t end = off + len;
  while (pos < end) {
    if (end - pos < 8) return malformed(std::string(what) + " block header at offset " + std::to_string(pos) + " is truncated");
    const std::uint32_t name_off = r.u32(pos), num = r.u32(pos + 4);
    pos += 8;
    const auto name = btf.string_at(name_off);
    if (name.empty()) return malformed(std::string(what) + " block names string offset " + std::to_string(name_off) + " which is not a section name");
    if (num == 0) return malformed(std::string(what) + " for section '" + std::string(name) + "' has zero records");
    if (std::uint64_t(num) * rec_size > end - pos)
      return malformed(std::string(what) + " for section '" + std::string(name) + "': " + std::to_string(num) + " records run past the end");
    BtfExtSection<Record> sec;
    sec.section = name;
    sec.records.reserve(num);
    for (std::uint32_t i = 0; i < num; ++i, pos += rec_size) {
      Record rec;
      if (auto v = decode(r, pos, rec); !v) return std::move(v).error();
      sec.records.push_back(rec);
    }
    out.push_back(std::move(sec));
  }
  return out;
}

}  // namespace

Result<BtfExt> BtfExt::parse(std::span<const std::uint8_t> bytes, const Btf& btf) {
  ByteReader r(bytes);
  if (bytes.size() < 24) return malformed("section of " + std::to_string(bytes.size()) + " bytes is shorter than its header");
  if (r.u16(0) != 0xeB9F) return malformed("bad magic");
  if (r.u8(2) != 1) return malformed("unsupported version " + std::to_string(r.u8(2)));
  if (r.u8(3) != 0) return malformed("unsupported flags");
  const std::uint32_t hdr_len = r.u32(4);
  if (hdr_len < 24 || hdr_len > bytes.size()) return malformed("header length " + std::to_string(hdr_len) + " is invalid");
  ByteReader body(bytes.subspan(hdr_len));
  auto check_type = [&](std::uint32_t id, const char* what) -> Result<void> {
    if (!btf.valid_id(id)) return malformed(std::string(what) + " names type [" + std::to_string(id) + "] of " + std::to_string(btf.type_count()));
    return {};
  };
  BtfExt ext;
  auto funcs = parse_info<BtfExtFuncInfo>(body, r.u32(8), r.u32(12), 8, "func_info", btf,
      [&](ByteReader& b, std::uint64_t p, BtfExtFuncInfo& rec) -> Result<void> {
        rec = {b.u32(p), b.u32(p + 4)};
        if (auto v = check_type(rec.type_id, "func_info"); !v) return v;
        if (btf.kind(rec.type_id) != BtfKind::Func) return malformed("func_info type [" + std::to_string(rec.type_id) + "] is not a FUNC");
        return {};
      });
  if (!funcs) return std::move(funcs).error();
  ext.func_info = std::move(*funcs);
  auto lines = parse_info<BtfExtLineInfo>(body, r.u32(16), r.u32(20), 16, "line_info", btf,
      [&](ByteReader& b, std::uint64_t p, BtfExtLineInfo& rec) -> Result<void> {
        const auto line_col = b.u32(p + 12);
        rec = {b.u32(p), b.u32(p + 4), b.u32(p + 8), line_col >> 10, line_col & 0x3ff};
        if (rec.file_name_off >= btf.string_bytes() || rec.line_off >= btf.string_bytes())
          return malformed("line_info string offset is outside the BTF string section");
        return {};
      });
  if (!lines) return std::move(lines).error();
  ext.line_info = std::move(*lines);
  if (hdr_len >= 32) {
    auto relos = parse_info<BtfExtCoreRelo>(body, r.u32(24), r.u32(28), 16, "core_relo", btf,
        [&](ByteReader& b, std::uint64_t p, BtfExtCoreRelo& rec) -> Result<void> {
          rec = {b.u32(p), b.u32(p + 4), b.u32(p + 8), b.u32(p + 12)};
          if (auto v = check_type(rec.type_id, "core_relo"); !v) return v;
          if (rec.access_str_off >= btf.string_bytes()) return malformed("core_relo access string offset is outside the BTF string section");
          return {};
        });
    if (!relos) return std::move(relos).error();
    ext.core_relos = std::move(*relos);
  }
  return ext;
}

}  // namespace bpfvm::loader
