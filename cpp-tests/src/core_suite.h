// Declarations of the C++ scenarios called from Rust through the cxx bridge
// in src/lib.rs (which defines the result structs).
#pragma once
#include "rust/cxx.h"
#include <cstdint>

namespace fctests {
struct PingPong;
struct ByPointer;
struct OntopSeen;
struct ExceptionSeen;
struct FloatSeen;
struct FpuSeen;
struct StdioSeen;
struct EntrySp;
struct RegsSeen;
struct ChildStatus;
struct SwitchCount;
struct Interop;

PingPong ping_pong(uint32_t rounds);
ByPointer struct_by_pointer();
OntopSeen ontop_changes_data();
ExceptionSeen exception_in_context();
FloatSeen float_across_switches(uint32_t rounds);
FpuSeen fpu_control_per_context();
rust::Vec<uint32_t> nested_contexts();
StdioSeen stdio_on_context();
rust::Vec<EntrySp> entry_stack_pointers();
RegsSeen registers_across_jump();
RegsSeen registers_across_ontop();
ChildStatus entry_return_in_child();
SwitchCount count_switches(uint64_t switches);

rust::Vec<rust::String> boost_symbol_files(rust::Str lib);
Interop interop_round_trips(rust::Str lib, rust::Str maker, rust::Str main_jump,
                            rust::Str ctx_jump, uint32_t rounds);
Interop interop_ontop(rust::Str lib, rust::Str maker, rust::Str ontop, uint32_t rounds);
} // namespace fctests
