// Declarations of the C++ scenarios called from Rust through the cxx bridge
// in src/lib.rs (which defines the result structs).
#pragma once
#include "rust/cxx.h"
#include <cstdint>

namespace fctests {
struct ByPointer;
struct ExceptionSeen;
struct StdioSeen;

ByPointer struct_by_pointer();
ExceptionSeen exception_in_context();
rust::Vec<uint32_t> nested_contexts();
StdioSeen stdio_on_context();
} // namespace fctests
