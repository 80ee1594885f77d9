//! The core C++ suite: fcontext driven from C++ through `include/fcontext.h`
//! (the scenarios are in `src/core_suite.cc`; the expectations are here).
//! What is C++-specific only: the ABI checks (callee-saved registers, FP
//! control, entry alignment, entry return, switch counting, Boost interop)
//! are the conformance harness's (`conformance/harness.c`, every target).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests as cpp;

#[test]
fn struct_passed_by_pointer_is_shared() {
    let r = cpp::struct_by_pointer();
    assert!(r.same_address, "the context got another address");
    assert_eq!(r.ctx_read_id, 20);
    assert_eq!(r.id, 41);
    assert_eq!(r.weight, 6.0);
    assert_eq!(r.label, "parcel+ctx");
}

#[test]
fn exception_thrown_and_caught_inside_a_context() {
    let r = cpp::exception_in_context();
    assert_eq!(r.message, "thrown on a context stack");
    // four frames of throw_deep plus the guard in the try block
    assert_eq!(r.destructors, 5);
    assert!(r.switched_after);
}

#[test]
fn nested_contexts_switch_in_order() {
    let trace = cpp::nested_contexts();
    assert_eq!(trace, [1, 10, 20, 30, 21, 11, 2, 12, 22, 31, 23, 13, 3]);
}

#[test]
fn printf_and_sscanf_on_a_context_stack() {
    let r = cpp::stdio_on_context();
    assert_eq!(r.formatted, "42 1.625 fiber");
    assert_eq!(r.fields, 3);
    assert_eq!(r.number, 42);
    assert_eq!(r.real, 1.625);
    assert_eq!(r.word, "fiber");
}
