//! Compiles the C++ scenarios into the test crate through `cxx-build`.

fn main() {
    let sources = ["src/core_suite.cc"];
    let mut build = cxx_build::bridge("src/lib.rs");
    build
        .files(sources)
        .include("../include")
        .std("c++17")
        .flag_if_supported("-Wall");
    build.compile("fcontext_cpp_tests");
    for f in sources.iter().chain(&["src/core_suite.h"]) {
        println!("cargo:rerun-if-changed={f}");
    }
    println!("cargo:rerun-if-changed=../include/fcontext.h");
}
