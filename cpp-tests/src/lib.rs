//! Test-only crate: C++ code that drives fcontext exactly as C and C++
//! programs do, called from the Rust integration tests in `tests/`.
//!
//! The C++ in `src/core_suite.cc` is compiled by `cxx-build` and linked into
//! every test binary together with the `fcontext` rlib, whose
//! `+whole-archive` assembly provides the three functions. It covers what is
//! C++-specific (exceptions on a context stack, C++ objects and stdio across
//! switches, this bridge); the ABI checks (registers, FP control, alignment,
//! entry return, Boost interop) are the conformance harness's
//! (`conformance/harness.c`, run on every target by `cargo xtask matrix`).
//! Each C++ function runs one scenario and returns what it observed; the
//! Rust tests decide whether that is right, so the expected values live next
//! to the assertions. Standalone programs (Boost, libfcontext
//! style, gdb) are in `programs/` and are compiled at test time by [`tools`].
#![deny(missing_docs)]

// The C++ calls make/jump/ontop_fcontext, which only the fcontext rlib
// defines; naming the crate makes sure it is linked.
extern crate fcontext as _;

pub use fcontext_test_support as tools;

pub use ffi::*;

#[cxx::bridge(namespace = "fctests")]
mod ffi {
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

    /// An exception thrown and caught inside a context.
    struct ExceptionSeen {
        /// `what()` of the caught exception.
        message: String,
        /// Destructors run by the unwinding.
        destructors: u32,
        /// The context kept switching after the catch.
        switched_after: bool,
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

    unsafe extern "C++" {
        include!("fcontext-cpp-tests/src/core_suite.h");

        /// Passes a struct by pointer; the context reads and changes it.
        fn struct_by_pointer() -> ByPointer;
        /// throw/catch inside a context.
        fn exception_in_context() -> ExceptionSeen;
        /// Three nested contexts; returns the order of events.
        fn nested_contexts() -> Vec<u32>;
        /// snprintf/printf/sscanf on a context stack.
        fn stdio_on_context() -> StdioSeen;
    }
}
