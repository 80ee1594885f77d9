//! The core C++ suite: fcontext driven from C++ through `include/fcontext.h`
//! (the scenarios are in `src/core_suite.cc`; the expectations are here).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests as cpp;

#[test]
fn ping_pong_carries_data_both_ways() {
    let r = cpp::ping_pong(1000);
    let sent: Vec<u64> = (1..=1000).collect();
    assert_eq!(r.ctx_received, sent);
    let replies: Vec<u64> = sent.iter().map(|v| 3 * v + 1).collect();
    assert_eq!(r.main_received, replies);
}

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
fn ontop_runs_on_the_target_stack_and_changes_its_data() {
    let r = cpp::ontop_changes_data();
    assert!(
        (r.stack_lo..r.stack_hi).contains(&r.ontop_local),
        "ontop function's local {:#x} is outside the target stack {:#x}..{:#x}",
        r.ontop_local,
        r.stack_lo,
        r.stack_hi
    );
    assert!(!(r.stack_lo..r.stack_hi).contains(&r.main_local));
    assert_eq!(r.ontop_data, 7);
    assert_eq!(r.target_data, 75, "the target must receive ontop's result");
    assert!(r.ontop_ctx_resumed_main);
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
fn floating_point_values_survive_switches() {
    let rounds = 200;
    let r = cpp::float_across_switches(rounds);
    let (mut x, mut y) = (1.0f64, 2.0f64);
    for _ in 0..rounds {
        x = x * 1.0625 + 0.375;
        y = y * 0.9375 - 0.125;
    }
    assert_eq!(r.ctx_value, x);
    assert_eq!(r.main_value, y);
}

/// MXCSR control bits (everything but the sticky exception flags 0..5).
const MXCSR_CONTROL: u32 = 0xffc0;
const MXCSR_RC: u32 = 3 << 13;
const FCW_RC_PC: u16 = 0xf << 8;

#[test]
#[cfg_attr(
    feature = "no-fpu-control",
    ignore = "built without FPU control saving"
)]
fn mxcsr_and_x87_control_word_are_per_context() {
    let r = cpp::fpu_control_per_context();
    // The context chose round-up (RC=10) and double precision (PC=10).
    assert_eq!(r.ctx_mxcsr_set & MXCSR_RC, 2 << 13);
    assert_eq!(r.ctx_fcw_set & FCW_RC_PC, (2 << 10) | (2 << 8));
    // ... which main does not see when it is resumed.
    assert_eq!(
        r.main_mxcsr_after_ctx_change & MXCSR_CONTROL,
        r.main_mxcsr_start & MXCSR_CONTROL
    );
    assert_eq!(r.main_fcw_after_ctx_change, r.main_fcw_start);
    // Main then chose toward-zero, which the resumed context does not see.
    assert_eq!(r.main_mxcsr_set & MXCSR_RC, 3 << 13);
    assert_eq!(
        r.ctx_mxcsr_after_main_change & MXCSR_CONTROL,
        r.ctx_mxcsr_set & MXCSR_CONTROL
    );
    assert_eq!(r.ctx_fcw_after_main_change, r.ctx_fcw_set);
    // The modes really apply: 1/3 rounds to nearest in main, up in the context.
    assert_eq!(r.main_third, 1.0 / 3.0);
    assert_eq!(r.ctx_third, f64::from_bits((1.0f64 / 3.0).to_bits() + 1));
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

#[test]
fn entry_function_starts_with_call_alignment_for_every_top() {
    let all = cpp::entry_stack_pointers();
    assert_eq!(all.len(), 16);
    for e in &all {
        // Boost 1.74's frame: fctx = (sp & ~15) - 0x40, entry rsp = fctx + 0x38.
        assert_eq!(e.fctx, (e.top & !15) - 0x40, "top {:#x}", e.top);
        assert_eq!(e.entry_rsp, e.fctx + 0x38, "top {:#x}", e.top);
        // As right after a call: rsp + 8 is 16-byte aligned.
        assert_eq!((e.entry_rsp + 8) % 16, 0, "top {:#x}", e.top);
    }
}

fn assert_regs(r: &cpp::RegsSeen) {
    const NAMES: [&str; 6] = ["rbx", "rbp", "r12", "r13", "r14", "r15"];
    // The sides load different values, so a switch that forgot to restore
    // would show the other side's pattern.
    for (i, name) in NAMES.iter().enumerate() {
        assert_ne!(r.main_loaded[i], r.ctx_loaded[i]);
        assert_eq!(r.main_after[i], r.main_loaded[i], "main {name}");
        assert_eq!(r.ctx_after[i], r.ctx_loaded[i], "context {name}");
    }
}

#[test]
fn callee_saved_registers_survive_jump() {
    assert_regs(&cpp::registers_across_jump());
}

#[test]
fn callee_saved_registers_survive_ontop() {
    assert_regs(&cpp::registers_across_ontop());
}

#[test]
fn returning_entry_function_exits_the_process_with_status_0() {
    let r = cpp::entry_return_in_child();
    assert!(!r.signaled, "child killed by signal {}", r.signal);
    assert!(r.exited);
    assert_eq!(r.exit_code, 0);
    // The entry function ran, and the exit skipped atexit handlers (_exit).
    assert_eq!(r.pipe_text, "entry");
}

#[test]
fn ten_million_switches_are_counted_exactly() {
    let switches = 10_000_000u64;
    let r = cpp::count_switches(switches);
    assert_eq!(r.main_jumps + r.ctx_jumps, switches);
    assert_eq!(r.main_jumps, r.ctx_jumps);
    let n = switches / 2;
    assert_eq!(r.ctx_data_sum, n * (n + 1) / 2);
}
