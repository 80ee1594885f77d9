//! Compiles the C++ scenarios (and the x86_64 register probes) into the test
//! crate through `cxx-build`.

fn main() {
    let arch = std::env::var("CARGO_CFG_TARGET_ARCH").unwrap_or_default();
    let sources = ["src/core_suite.cc", "src/interop.cc"];
    let mut build = cxx_build::bridge("src/lib.rs");
    build
        .files(sources)
        .include("../include")
        .std("c++17")
        .flag_if_supported("-Wall");
    // The probes and the scenarios that use them are x86_64 SysV only; the
    // crate is only built there (the tests are gated the same way).
    if arch == "x86_64" {
        build.file("src/regs_x86_64.S");
    }
    build.compile("fcontext_cpp_tests");
    // dlopen/dlsym for the interop tests (part of libc on current glibc,
    // a separate library on older ones).
    println!("cargo:rustc-link-lib=dl");
    for f in sources
        .iter()
        .chain(&["src/core_suite.h", "src/regs_x86_64.S"])
    {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-changed=../include/fcontext.h");
}
