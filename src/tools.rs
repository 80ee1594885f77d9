//! Telling Valgrind and AddressSanitizer about our stacks and switches.
//!
//! Both tools track "the current stack" and get confused when the stack
//! pointer jumps into memory they do not know is a stack: Valgrind reports
//! every access there as invalid (or treats the jump as a huge stack
//! change), ASan reports false stack-buffer overflows and cannot unwind its
//! fake stacks. This module is the one seam where the crate tells them:
//!
//! * [`StackRegistration`] is created with every stack the crate makes (and
//!   held until it is freed). It registers the usable range with Valgrind
//!   (`VALGRIND_STACK_REGISTER`, a no-op costing a few register rotations
//!   when not running under Valgrind) and the guard page with the overflow
//!   reporter ([`crate::overflow`]).
//! * [`AsanSwitch`] wraps each context switch in
//!   `__sanitizer_start_switch_fiber` / `__sanitizer_finish_switch_fiber`
//!   when the crate is built with the `sanitize-address` feature (nightly,
//!   `RUSTFLAGS=-Zsanitizer=address`). Without the feature it is an empty
//!   type whose methods compile to nothing.

#[cfg(feature = "sanitize-address")]
use core::ffi::c_void;
use core::ops::Range;

use crate::overflow;

// ---------------------------------------------------------------------------
// Valgrind client requests.

/// Valgrind's core client request numbers (`valgrind.h`, `Vg_ClientRequest`).
const VG_USERREQ_RUNNING_ON_VALGRIND: usize = 0x1001;
const VG_USERREQ_STACK_REGISTER: usize = 0x1501;
const VG_USERREQ_STACK_DEREGISTER: usize = 0x1502;
const VG_USERREQ_STACK_CHANGE: usize = 0x1503;

/// Issues a Valgrind client request and returns its result, or `default`
/// when the program does not run under Valgrind (the magic sequence is then
/// a handful of rotations that leave the register unchanged).
#[inline]
fn client_request(default: usize, request: usize, args: [usize; 5]) -> usize {
    let block = [request, args[0], args[1], args[2], args[3], args[4]];
    #[cfg(target_arch = "x86_64")]
    {
        let result: usize;
        // SAFETY: the rotations of rdi by 3+13+61+51 = 128 bits restore it,
        // and `xchg rbx, rbx` is a no-op natively; under Valgrind the
        // sequence reads the request block at rax and returns in rdx.
        unsafe {
            core::arch::asm!(
                "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") default => result,
                in("rax") block.as_ptr(),
                out("rdi") _,
                options(nostack, preserves_flags),
            );
        }
        result
    }
    #[cfg(target_arch = "aarch64")]
    {
        let result: usize;
        // SAFETY: as above: rotating x12 by 3+13+51+61 = 128 bits restores
        // it and `orr x10, x10, x10` is a no-op natively; under Valgrind the
        // request block is read from x4 and the result returned in x3.
        unsafe {
            core::arch::asm!(
                "ror x12, x12, #3", "ror x12, x12, #13", "ror x12, x12, #51", "ror x12, x12, #61",
                "orr x10, x10, x10",
                inout("x3") default => result,
                in("x4") block.as_ptr(),
                out("x12") _,
                options(nostack, preserves_flags),
            );
        }
        result
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    {
        let _ = block;
        default
    }
}

/// Memcheck's `MAKE_MEM_UNDEFINED` request (`memcheck.h`: tool base
/// `'M','C'` + 1).
const VG_USERREQ_MAKE_MEM_UNDEFINED: usize = 0x4d43_0001;

/// Tells Memcheck that `addr..addr + len` is addressable but holds no
/// defined value yet (`VALGRIND_MAKE_MEM_UNDEFINED`). Code that writes into
/// a part of a stack Memcheck believes dead (the copy-stack swap-in, which
/// restores a suspended coroutine's bytes below the shared stack's top)
/// calls it first. A no-op outside Valgrind.
#[inline]
pub fn valgrind_make_mem_undefined(addr: *const u8, len: usize) {
    client_request(
        0,
        VG_USERREQ_MAKE_MEM_UNDEFINED,
        [addr as usize, len, 0, 0, 0],
    );
}

/// Whether the program runs under Valgrind (`RUNNING_ON_VALGRIND`).
pub fn running_on_valgrind() -> bool {
    client_request(0, VG_USERREQ_RUNNING_ON_VALGRIND, [0; 5]) != 0
}

/// Changes the range of a stack registered with Valgrind (for code that
/// grows or shrinks a stack in place).
pub fn valgrind_stack_change(id: usize, stack: Range<usize>) {
    client_request(
        0,
        VG_USERREQ_STACK_CHANGE,
        [id, stack.start, stack.end, 0, 0],
    );
}

/// A stack known to Valgrind and (if it has a guard page) to the overflow
/// reporter. Create one when a stack is allocated; drop it before the
/// memory is freed.
#[derive(Debug)]
pub struct StackRegistration {
    valgrind_id: usize,
    overflow: Option<overflow::Token>,
}

impl StackRegistration {
    /// Registers the usable stack `stack` (lowest address ..one past the
    /// highest) and its guard range `guard`, if any.
    pub fn new(stack: Range<usize>, guard: Option<Range<usize>>) -> Self {
        // Valgrind wants the highest addressable byte, not one past it.
        let valgrind_id = client_request(
            0,
            VG_USERREQ_STACK_REGISTER,
            [stack.start, stack.end.saturating_sub(1), 0, 0, 0],
        );
        let overflow = guard.map(|g| overflow::register(g.start, g.end, stack.start, stack.end));
        StackRegistration {
            valgrind_id,
            overflow,
        }
    }

    /// The id Valgrind assigned (0 when not running under Valgrind).
    pub fn valgrind_id(&self) -> usize {
        self.valgrind_id
    }
}

impl Drop for StackRegistration {
    fn drop(&mut self) {
        client_request(
            0,
            VG_USERREQ_STACK_DEREGISTER,
            [self.valgrind_id, 0, 0, 0, 0],
        );
        if let Some(token) = self.overflow.take() {
            overflow::unregister(token);
        }
    }
}

// ---------------------------------------------------------------------------
// AddressSanitizer fiber-switch annotations.

#[cfg(feature = "sanitize-address")]
unsafe extern "C" {
    fn __sanitizer_start_switch_fiber(
        fake_stack_save: *mut *mut c_void,
        bottom: *const c_void,
        size: usize,
    );
    fn __sanitizer_finish_switch_fiber(
        fake_stack_save: *mut c_void,
        bottom_old: *mut *const c_void,
        size_old: *mut usize,
    );
}

/// ASan bookkeeping for one side of a context switch.
///
/// The protocol (what the switch code does):
/// * **Resumer** (e.g. `Coroutine::resume`): `let mut s = AsanSwitch::new();
///   s.start(coroutine_stack_lo, coroutine_stack_len);` jump;
///   `s.finish();` when control comes back.
/// * **Coroutine entry**, first thing on the new stack:
///   `caller.finish()` on an [`AsanSwitch`] stored with the coroutine
///   (this records the resumer's stack).
/// * **Suspend**: `caller.start_back()`, jump, `caller.finish()` (the
///   resumer may be a different stack each time; `finish` records it).
/// * **Final switch** out of a finished coroutine: `caller.start_exit()`
///   (its fake stack is freed: the coroutine never runs again).
///
/// Without the `sanitize-address` feature this type is empty and every
/// method is an empty inline function.
#[derive(Debug)]
pub struct AsanSwitch {
    #[cfg(feature = "sanitize-address")]
    fake_stack: *mut c_void,
    #[cfg(feature = "sanitize-address")]
    other_bottom: *const c_void,
    #[cfg(feature = "sanitize-address")]
    other_size: usize,
}

// SAFETY: the pointers are opaque ASan handles tied to a stack, not to a
// thread; a coroutine that moves between threads carries them along.
#[cfg(feature = "sanitize-address")]
unsafe impl Send for AsanSwitch {}

impl Default for AsanSwitch {
    fn default() -> Self {
        Self::new()
    }
}

impl AsanSwitch {
    /// Fresh state (no switch in progress, other side unknown).
    #[inline(always)]
    pub const fn new() -> Self {
        AsanSwitch {
            #[cfg(feature = "sanitize-address")]
            fake_stack: core::ptr::null_mut(),
            #[cfg(feature = "sanitize-address")]
            other_bottom: core::ptr::null(),
            #[cfg(feature = "sanitize-address")]
            other_size: 0,
        }
    }

    /// Announces a switch to the stack `lo..lo + len`; call right before
    /// the jump.
    #[inline(always)]
    pub fn start(&mut self, lo: *const u8, len: usize) {
        #[cfg(feature = "sanitize-address")]
        // SAFETY: ASan's documented fiber protocol; `fake_stack` is ours.
        unsafe {
            __sanitizer_start_switch_fiber(&mut self.fake_stack, lo.cast(), len)
        };
        #[cfg(not(feature = "sanitize-address"))]
        let _ = (lo, len);
    }

    /// Announces a switch back to the stack that last switched to us
    /// (recorded by [`finish`](Self::finish)).
    #[inline(always)]
    pub fn start_back(&mut self) {
        #[cfg(feature = "sanitize-address")]
        // SAFETY: as in `start`.
        unsafe {
            __sanitizer_start_switch_fiber(&mut self.fake_stack, self.other_bottom, self.other_size)
        };
    }

    /// Like [`start_back`](Self::start_back) for the last switch out of a
    /// context that will never run again: ASan frees its fake stack.
    #[inline(always)]
    pub fn start_exit(&mut self) {
        #[cfg(feature = "sanitize-address")]
        // SAFETY: a null save slot tells ASan this stack is finished.
        unsafe {
            __sanitizer_start_switch_fiber(
                core::ptr::null_mut(),
                self.other_bottom,
                self.other_size,
            )
        };
    }

    /// Completes a switch onto the current stack; call first thing after
    /// a jump returns (or at a context's entry). Records the stack we came
    /// from for [`start_back`](Self::start_back).
    #[inline(always)]
    pub fn finish(&mut self) {
        #[cfg(feature = "sanitize-address")]
        // SAFETY: ASan's documented fiber protocol.
        unsafe {
            __sanitizer_finish_switch_fiber(
                self.fake_stack,
                &mut self.other_bottom,
                &mut self.other_size,
            )
        };
    }
}

/// Whether the crate was built with the ASan switch annotations.
pub const ASAN_ANNOTATIONS: bool = cfg!(feature = "sanitize-address");

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registration_records_guard_for_overflow_reporter() {
        // A registered guard is what the overflow handler looks up.
        let reg = StackRegistration::new(0x5000_1000..0x5002_0000, Some(0x5000_0000..0x5000_1000));
        assert!(reg.overflow.is_some());
        drop(reg);
        let reg = StackRegistration::new(0x5000_1000..0x5002_0000, None);
        assert!(reg.overflow.is_none());
    }

    #[test]
    fn valgrind_requests_match_environment() {
        // Natively the request returns its default; under Valgrind (the
        // xtask pass sets FCONTEXT_UNDER_VALGRIND=1) it must answer, and a
        // registration must get a non-zero stack id.
        let expected = std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some();
        assert_eq!(running_on_valgrind(), expected);
        let reg = StackRegistration::new(0x6000_0000..0x6001_0000, None);
        assert_eq!(reg.valgrind_id() != 0, expected);
    }
}
