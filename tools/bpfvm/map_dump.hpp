// Printing an object's maps after a run (`bpfvm run --dump-maps`).
#pragma once

#include <string>

#include "bpfvm/bpfvm.hpp"

namespace bpfvm::tools {

/// One block per map: name, type, then "key: value" hex lines for every entry.
std::string maps_text(const Object& object);
/// [{"name":…, "type":…, "entries":[{"key":"hex","value":"hex"}]}]
std::string maps_json(const Object& object);

}  // namespace bpfvm::tools
