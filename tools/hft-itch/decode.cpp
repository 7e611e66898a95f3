// hft-itch decode: every message as one line, JSON or text, driven by the field table
// (itch::header_fields / itch::message_spec) so all 23 types print every spec field under its
// spec name with no per-type code. The keys are rendered once per type at start-up; a message
// is then a walk over its fields appending digits into a 1 MiB buffer (no iostream, no
// allocation per message).
#include <array>
#include <cstring>
#include <vector>

#include "commands.hpp"
#include "gateways/common/endian.hpp"

namespace hft::itch_tool {
namespace {

struct FieldOut {
  std::string key;  // jsonl: ,"name":   text: " name="
  std::uint8_t offset = 0;
  std::uint8_t length = 0;
  itch::FieldKind kind = itch::FieldKind::kU16;
};

struct TypeOut {
  std::string prefix;  // jsonl: {"type":"A"   text: " A Add Order - No MPID Attribution:"
  std::vector<FieldOut> fields;  // header fields, then the type's
};

std::uint64_t load_field(const std::uint8_t* msg, const FieldOut& f) noexcept {
  switch (f.kind) {
    case itch::FieldKind::kU16: return wire::load_be16(msg + f.offset);
    case itch::FieldKind::kU32: case itch::FieldKind::kPrice4: return wire::load_be32(msg + f.offset);
    case itch::FieldKind::kU48: return wire::load_be48(msg + f.offset);
    case itch::FieldKind::kU64: case itch::FieldKind::kPrice8: return wire::load_be64(msg + f.offset);
    case itch::FieldKind::kChar: case itch::FieldKind::kAlpha: return 0;
  }
  return 0;
}

bool is_text(itch::FieldKind k) noexcept { return k == itch::FieldKind::kChar || k == itch::FieldKind::kAlpha; }

void append_uint(fmt::memory_buffer& out, std::uint64_t v) {
  const fmt::format_int s(v);
  out.append(s.data(), s.data() + s.size());
}

class Printer {
 public:
  Printer(Output& out, bool json, bool pcap) : out_(out), json_(json), pcap_(pcap) {
    for (const char t : itch::kMessageTypes) {
      const itch::MessageSpec* spec = itch::message_spec(t);
      TypeOut& to = types_[static_cast<std::uint8_t>(t)];
      to.prefix = json ? fmt::format("{{\"type\":\"{}\"", t) : fmt::format(" {} {}:", t, spec->name);
      auto add = [&](const itch::FieldSpec& f) {
        FieldOut fo;
        fo.key = json ? fmt::format(",\"{}\":", f.name) : fmt::format(" {}=", f.name);
        fo.offset = f.offset;
        fo.length = f.length;
        fo.kind = f.kind;
        to.fields.push_back(std::move(fo));
      };
      for (const itch::FieldSpec& f : itch::header_fields()) {
        if (!json && f.name == "timestamp") continue;  // text lines start with the clock time
        add(f);
      }
      for (const itch::FieldSpec& f : spec->fields) add(f);
    }
  }

  // A message the decoder dispatched (its length matches its type).
  void on_message(const std::uint8_t* msg) {
    const TypeOut& to = types_[msg[0]];
    fmt::memory_buffer& b = out_.buffer();
    if (json_) {
      append(b, to.prefix);
      if (pcap_) {
        append(b, session_json_);
        append(b, ",\"sequence\":");
        append_uint(b, sequence_);
      }
      for (const FieldOut& f : to.fields) {
        append(b, f.key);
        if (is_text(f.kind)) {
          append_json_text(b, msg + f.offset, f.length, f.kind == itch::FieldKind::kAlpha);
        } else {
          append_uint(b, load_field(msg, f));
        }
      }
      b.push_back('}');
    } else {
      append_clock(b, wire::load_be48(msg + 5));
      append(b, to.prefix);
      for (const FieldOut& f : to.fields) {
        append(b, f.key);
        switch (f.kind) {
          case itch::FieldKind::kPrice4: append_fixed(b, load_field(msg, f), 4); break;
          case itch::FieldKind::kPrice8: append_fixed(b, load_field(msg, f), 8); break;
          case itch::FieldKind::kChar: case itch::FieldKind::kAlpha:
            append_plain_text(b, msg + f.offset, f.length, f.kind == itch::FieldKind::kAlpha);
            break;
          default: append_uint(b, load_field(msg, f)); break;
        }
      }
      if (pcap_) {
        append(b, session_text_);
        append(b, " sequence=");
        append_uint(b, sequence_);
      }
    }
    b.push_back('\n');
    out_.maybe_flush();
  }

  void on_mold_message(const files::MoldMessageContext& ctx) {
    sequence_ = ctx.sequence;
    if (!have_session_ || !(ctx.session == session_)) {
      session_ = ctx.session;
      have_session_ = true;
      fmt::memory_buffer j;
      append(j, ",\"session\":");
      append_json_string(j, trim_right(session_.view()));
      session_json_ = fmt::to_string(j);
      fmt::memory_buffer t;
      append(t, " session=");
      append_plain_text(t, reinterpret_cast<const std::uint8_t*>(session_.chars.data()), mold::kSessionSize, true);
      session_text_ = fmt::to_string(t);
    }
  }

 private:
  static void append(fmt::memory_buffer& b, std::string_view s) { b.append(s.data(), s.data() + s.size()); }

  // Alpha fields lose their trailing space padding; a Char field keeps its one character even
  // when it is a space, because a space is a value there (NOII price variation ' ' = under 1%,
  // spec 1.8; the 'H' reserved byte).
  static std::string_view field_text(const std::uint8_t* p, std::size_t n, bool alpha) noexcept {
    const std::string_view s(reinterpret_cast<const char*>(p), n);
    return alpha ? trim_right(s) : s;
  }

  static void append_json_text(fmt::memory_buffer& b, const std::uint8_t* p, std::size_t n, bool alpha) {
    const std::string_view s = field_text(p, n, alpha);
    bool plain = true;
    for (const char ch : s) {
      const auto c = static_cast<unsigned char>(ch);
      plain &= c >= 0x20 && c < 0x7f && c != '"' && c != '\\';
    }
    if (plain) {
      b.push_back('"');
      append(b, s);
      b.push_back('"');
    } else {
      append_json_string(b, s);
    }
  }

  // Text lines: printable ASCII as is, anything else as \xNN so a line stays one line.
  static void append_plain_text(fmt::memory_buffer& b, const std::uint8_t* p, std::size_t n, bool alpha) {
    for (const char ch : field_text(p, n, alpha)) {
      const auto c = static_cast<unsigned char>(ch);
      if (c >= 0x21 && c < 0x7f && c != '\\') {
        b.push_back(ch);
      } else {
        fmt::format_to(fmt::appender(b), "\\x{:02x}", c);
      }
    }
  }

  Output& out_;
  bool json_;
  bool pcap_;
  std::array<TypeOut, 256> types_{};
  std::uint64_t sequence_ = 0;
  mold::SessionId session_;
  bool have_session_ = false;
  std::string session_json_;
  std::string session_text_;
};

}  // namespace

int run_decode(const InputSpec& in, const DecodeOptions& o) {
  Output out;
  Printer printer(out, o.format == "jsonl", in.pcap);
  RawMessages<Printer> raw{&printer};
  const InputReport rep = decode_input(in, raw);
  out.flush();
  report_input_errors(in, rep);
  return rep.has_errors(in.pcap) ? kExitBadInput : kExitOk;
}

}  // namespace hft::itch_tool
