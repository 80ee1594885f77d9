//! The bottom layer: every operating-system call the Rust layer makes
//! (anonymous mappings and their protection, `errno`, `sysconf`, the stack
//! rlimit, the calling thread's stack bounds, the alternate signal stack),
//! one module per OS behind the same small `pub(crate)` API.
//!
//! Only Linux has a module today. The assembly (`build/select.rs`) covers
//! many more targets, and the C library (`libfcontext.a`, built from the
//! assembly alone by `cargo xtask matrix`) works on all of them; the Rust
//! layer (safe types, stacks, overflow reporter, C stack helpers) needs an
//! OS module, so building this crate for any other OS stops here with a
//! message. Adding an OS means adding one file next to `linux.rs`.

#[cfg(target_os = "linux")]
mod linux;
#[cfg(target_os = "linux")]
pub(crate) use linux::*;

#[cfg(not(target_os = "linux"))]
compile_error!(
    "fcontext: the Rust API (safe coroutines, stacks, overflow reporter, C stack helpers) \
     supports Linux only; src/sys has no module for this target_os. The context-switch \
     assembly in asm/ covers more targets (see build/select.rs, SUPPORTED): assemble it \
     directly for a C-only build (cargo xtask matrix shows how)."
);
