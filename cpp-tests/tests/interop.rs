//! Interoperation with Boost's own binary: Debian's `libboost_context.so`
//! 1.74 is dlopened `RTLD_LOCAL`, and contexts made or suspended by one
//! implementation are resumed by the other (scenarios in `src/interop.cc`).
#![cfg(all(target_arch = "x86_64", target_os = "linux"))]

use fcontext_cpp_tests::{self as cpp, tools};

const BOOST: &str = "/usr/lib/x86_64-linux-gnu/libboost_context.so.1.74.0";
const ROUNDS: u32 = 100_000;

fn boost_lib() -> Option<&'static str> {
    tools::need_file(BOOST, "libboost-context1.74.0").map(|_| BOOST)
}

#[test]
fn dlsym_finds_boosts_functions_not_ours() {
    let Some(lib) = boost_lib() else { return };
    let files = cpp::boost_symbol_files(lib).expect("load Boost");
    for f in &files[..3] {
        assert!(f.contains("libboost_context.so"), "Boost symbol from {f}");
    }
    for f in &files[3..] {
        assert!(!f.contains("boost"), "our symbol from {f}");
    }
}

fn check_round_trips(maker: &str, main_jump: &str, ctx_jump: &str) {
    let Some(lib) = boost_lib() else { return };
    let r = cpp::interop_round_trips(lib, maker, main_jump, ctx_jump, ROUNDS).expect("load Boost");
    let n = u64::from(ROUNDS);
    assert_eq!(r.rounds, n);
    assert_eq!(r.ctx_sum, n * (n + 1) / 2, "values the context received");
    assert_eq!(r.main_sum, n * (n + 1), "replies main received");
}

#[test]
fn boost_made_context_driven_by_our_jump() {
    check_round_trips("boost", "ours", "ours");
}

#[test]
fn our_context_driven_by_boosts_jump() {
    check_round_trips("ours", "boost", "boost");
}

#[test]
fn boost_jumps_into_our_context_and_ours_back() {
    check_round_trips("ours", "boost", "ours");
    check_round_trips("boost", "ours", "boost");
}

#[test]
fn mixed_chains_alternate_implementations_every_round() {
    check_round_trips("ours", "mixed", "mixed");
    check_round_trips("boost", "mixed", "mixed");
}

fn check_ontop(maker: &str, ontop: &str) {
    let Some(lib) = boost_lib() else { return };
    let r = cpp::interop_ontop(lib, maker, ontop, ROUNDS).expect("load Boost");
    let n = u64::from(ROUNDS);
    let expected = n * (n + 1) / 2 + 1000 * n;
    assert_eq!(r.rounds, n);
    assert_eq!(
        r.ontop_on_target_stack, n,
        "ontop function ran off the target stack"
    );
    assert_eq!(r.ctx_sum, expected);
    assert_eq!(r.main_sum, expected);
}

#[test]
fn our_ontop_onto_a_context_suspended_by_boost() {
    check_ontop("boost", "ours");
}

#[test]
fn boosts_ontop_onto_a_context_suspended_by_us() {
    check_ontop("ours", "boost");
}
