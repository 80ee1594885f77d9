//! Valgrind client requests: registering stacks (so a switch onto one is
//! not mistaken for a huge frame and accesses there are not reported as
//! invalid) and marking copied-over stack bytes addressable. Each request
//! is a magic no-op sequence costing a few register rotations when the
//! program does not run under Valgrind.

use core::ops::Range;

/// Valgrind's core client request numbers (`valgrind.h`, `Vg_ClientRequest`).
const VG_USERREQ_RUNNING_ON_VALGRIND: usize = 0x1001;
const VG_USERREQ_STACK_REGISTER: usize = 0x1501;
const VG_USERREQ_STACK_DEREGISTER: usize = 0x1502;

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
        // sequence reads the request block at rax and returns in rdx. The
        // rotations write CF and OF, and valgrind.h declares the sequence
        // as clobbering "cc" and "memory": so no `preserves_flags` and no
        // `nomem`/`readonly` (the defaults let it touch both).
        unsafe {
            core::arch::asm!(
                "rol rdi, 3", "rol rdi, 13", "rol rdi, 61", "rol rdi, 51",
                "xchg rbx, rbx",
                inout("rdx") default => result,
                in("rax") block.as_ptr(),
                out("rdi") _,
                options(nostack),
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
        // `ror` and `orr` leave NZCV alone natively, but valgrind.h declares
        // the sequence as clobbering "cc", "memory", x3 and x4 (what the
        // tool does under Valgrind is its business), so we promise no more.
        unsafe {
            core::arch::asm!(
                "ror x12, x12, #3", "ror x12, x12, #13", "ror x12, x12, #51", "ror x12, x12, #61",
                "orr x10, x10, x10",
                inout("x3") default => result,
                inout("x4") block.as_ptr() => _,
                out("x12") _,
                options(nostack),
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
pub fn make_mem_undefined(addr: *const u8, len: usize) {
    client_request(
        0,
        VG_USERREQ_MAKE_MEM_UNDEFINED,
        [addr as usize, len, 0, 0, 0],
    );
}

/// Whether the program runs under Valgrind (`RUNNING_ON_VALGRIND`).
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn running_on_valgrind() -> bool {
    client_request(0, VG_USERREQ_RUNNING_ON_VALGRIND, [0; 5]) != 0
}

/// Registers `stack` (lowest address ..one past the highest) with
/// Valgrind as a stack (`VALGRIND_STACK_REGISTER`); returns its id (0 when
/// not running under Valgrind).
pub(crate) fn stack_register(stack: Range<usize>) -> usize {
    // Valgrind wants the highest addressable byte, not one past it.
    client_request(
        0,
        VG_USERREQ_STACK_REGISTER,
        [stack.start, stack.end.saturating_sub(1), 0, 0, 0],
    )
}

/// Forgets a stack registered by [`stack_register`]
/// (`VALGRIND_STACK_DEREGISTER`).
pub(crate) fn stack_deregister(id: usize) {
    client_request(0, VG_USERREQ_STACK_DEREGISTER, [id, 0, 0, 0, 0]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valgrind_requests_match_environment() {
        // Natively the request returns its default; under Valgrind (the
        // xtask pass sets FCONTEXT_UNDER_VALGRIND=1) it must answer, and a
        // registration must get a non-zero stack id.
        let expected = std::env::var_os("FCONTEXT_UNDER_VALGRIND").is_some();
        assert_eq!(running_on_valgrind(), expected);
        let reg = crate::stack::registry::StackRegistration::new(0x6000_0000..0x6001_0000, None);
        assert_eq!(reg.valgrind_id() != 0, expected);
    }
}
