//! Test-only crate: C++ code that drives fcontext exactly as C and C++
//! programs do, called from the Rust integration tests in `tests/`.
//!
//! The C++ in `src/*.cc` (and the register helper in `src/regs_x86_64.S`) is
//! compiled by `cxx-build` and linked into every test binary together with the
//! `fcontext` rlib, whose `+whole-archive` assembly provides the three
//! functions. Each C++ function runs one scenario and returns what it
//! observed; the Rust tests decide whether that is right, so the expected
//! values live next to the assertions. Standalone programs (Boost, libfcontext
//! style, gdb) are in `programs/` and are compiled at test time by [`tools`].
#![deny(missing_docs)]

// The C++ calls make/jump/ontop_fcontext, which only the fcontext rlib
// defines; naming the crate makes sure it is linked.
extern crate fcontext as _;

pub mod tools;

pub use ffi::*;

#[cxx::bridge(namespace = "fctests")]
mod ffi {
    /// Values exchanged by a ping-pong between the main stack and a context.
    struct PingPong {
        /// What the context received, in order.
        ctx_received: Vec<u64>,
        /// What the main side received back, in order.
        main_received: Vec<u64>,
    }

    /// A struct handed to a context by pointer and changed there.
    struct ByPointer {
        /// Whether the context saw the very address the main side passed.
        same_address: bool,
        /// `id` as the context read it.
        ctx_read_id: i32,
        /// `id`, `weight` and `label` after the context changed them.
        id: i32,
        /// See `id`.
        weight: f64,
        /// See `id`.
        label: String,
    }

    /// What an ontop function saw.
    struct OntopSeen {
        /// Address of a local of the ontop function.
        ontop_local: usize,
        /// Bounds of the target context's stack: [stack_lo, stack_hi).
        stack_lo: usize,
        /// See `stack_lo`.
        stack_hi: usize,
        /// Address of a local of the main side (must be elsewhere).
        main_local: usize,
        /// `data` the ontop function received.
        ontop_data: u64,
        /// `data` the target's pending jump returned (changed by ontop).
        target_data: u64,
        /// Whether the ontop function's `ctx` let it get back to main.
        ontop_ctx_resumed_main: bool,
    }

    /// An exception thrown and caught inside a context.
    struct ExceptionSeen {
        /// `what()` of the caught exception.
        message: String,
        /// Destructors run by the unwinding.
        destructors: u32,
        /// The context kept switching after the catch.
        switched_after: bool,
    }

    /// Floating point state on both sides of repeated switches.
    struct FloatSeen {
        /// Final accumulator of the context (see the test for the recurrence).
        ctx_value: f64,
        /// Final accumulator of the main side.
        main_value: f64,
    }

    /// Control registers observed on each side (raw MXCSR / x87 CW).
    struct FpuSeen {
        /// Main before anything happened.
        main_mxcsr_start: u32,
        /// Main after the context changed its own rounding mode.
        main_mxcsr_after_ctx_change: u32,
        /// Context right after setting round-up.
        ctx_mxcsr_set: u32,
        /// Context after main switched to round-toward-zero and resumed it.
        ctx_mxcsr_after_main_change: u32,
        /// Main after setting round-toward-zero.
        main_mxcsr_set: u32,
        /// x87 control words, same moments as above.
        main_fcw_start: u16,
        /// See `main_fcw_start`.
        main_fcw_after_ctx_change: u16,
        /// See `main_fcw_start`.
        ctx_fcw_set: u16,
        /// See `main_fcw_start`.
        ctx_fcw_after_main_change: u16,
        /// See `main_fcw_start`.
        main_fcw_set: u16,
        /// 1.0/3.0 computed in the context (round-up) and in main (nearest).
        ctx_third: f64,
        /// See `ctx_third`.
        main_third: f64,
    }

    /// Text produced and parsed by stdio on a context stack.
    struct StdioSeen {
        /// What snprintf produced.
        formatted: String,
        /// What sscanf read back.
        number: i32,
        /// See `number`.
        real: f64,
        /// See `number`.
        word: String,
        /// sscanf's return value.
        fields: i32,
    }

    /// Entry-function stack pointer for one misalignment of the stack top.
    struct EntrySp {
        /// Stack top passed to make_fcontext.
        top: usize,
        /// Its result.
        fctx: usize,
        /// rsp at the first instruction of the entry function.
        entry_rsp: usize,
    }

    /// Callee-saved registers as seen by each side (rbx, rbp, r12..r15).
    struct RegsSeen {
        /// Patterns main loaded before switching away.
        main_loaded: Vec<u64>,
        /// What main found after coming back.
        main_after: Vec<u64>,
        /// Same for the context.
        ctx_loaded: Vec<u64>,
        /// See `ctx_loaded`.
        ctx_after: Vec<u64>,
    }

    /// Outcome of a child process.
    struct ChildStatus {
        /// WIFEXITED.
        exited: bool,
        /// WEXITSTATUS.
        exit_code: i32,
        /// WIFSIGNALED.
        signaled: bool,
        /// WTERMSIG.
        signal: i32,
        /// Everything the child wrote to its pipe: the entry function writes
        /// "entry", an atexit handler would add "atexit".
        pipe_text: String,
    }

    /// Counters of a long switch loop.
    struct SwitchCount {
        /// Jumps made by main.
        main_jumps: u64,
        /// Jumps made by the context.
        ctx_jumps: u64,
        /// Sum of the data values the context received.
        ctx_data_sum: u64,
    }

    /// Result of a round-trip run across two implementations.
    struct Interop {
        /// Round trips completed.
        rounds: u64,
        /// Sum of the values the context received.
        ctx_sum: u64,
        /// Sum of the replies main received.
        main_sum: u64,
        /// Ontop functions that ran on the target's stack.
        ontop_on_target_stack: u64,
    }

    unsafe extern "C++" {
        include!("fcontext-cpp-tests/src/core_suite.h");

        /// Sends 1..=rounds to a context, which replies with 3x+1.
        fn ping_pong(rounds: u32) -> PingPong;
        /// Passes a struct by pointer; the context reads and changes it.
        fn struct_by_pointer() -> ByPointer;
        /// ontop_fcontext onto a suspended context.
        fn ontop_changes_data() -> OntopSeen;
        /// throw/catch inside a context.
        fn exception_in_context() -> ExceptionSeen;
        /// Interleaved floating point recurrences.
        fn float_across_switches(rounds: u32) -> FloatSeen;
        /// Per-context MXCSR / x87 control word.
        fn fpu_control_per_context() -> FpuSeen;
        /// Three nested contexts; returns the order of events.
        fn nested_contexts() -> Vec<u32>;
        /// snprintf/printf/sscanf on a context stack.
        fn stdio_on_context() -> StdioSeen;
        /// Entry rsp for the 16 residues of the stack top.
        fn entry_stack_pointers() -> Vec<EntrySp>;
        /// Registers across jump_fcontext.
        fn registers_across_jump() -> RegsSeen;
        /// Registers across ontop_fcontext.
        fn registers_across_ontop() -> RegsSeen;
        /// A child whose entry function returns.
        fn entry_return_in_child() -> ChildStatus;
        /// `switches` jumps in total, half each way.
        fn count_switches(switches: u64) -> SwitchCount;

        /// Where Boost's make/jump/ontop live once `lib` is dlopened
        /// RTLD_LOCAL; throws if it cannot be loaded.
        fn boost_symbol_files(lib: &str) -> Result<Vec<String>>;
        /// Contexts made by `maker` ("ours" or "boost"), resumed by main with
        /// `main_jump` and answered by the context with `ctx_jump` (each
        /// "ours", "boost" or "mixed", which alternates per round).
        fn interop_round_trips(
            lib: &str,
            maker: &str,
            main_jump: &str,
            ctx_jump: &str,
            rounds: u32,
        ) -> Result<Interop>;
        /// ontop_fcontext of one implementation applied to a context
        /// suspended by the other; `ontop` names the implementation used.
        fn interop_ontop(lib: &str, maker: &str, ontop: &str, rounds: u32) -> Result<Interop>;
    }
}
