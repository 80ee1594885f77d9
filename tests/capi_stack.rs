//! The C stack helpers `create_fcontext_stack` / `destroy_fcontext_stack`,
//! called from Rust: destroy must free exactly what a create returned, and
//! refuse anything else (a forged size, a second destroy) with `EINVAL`
//! without touching the struct or the memory.
//!
//! The tests of this binary run in parallel threads, and a freed stack's
//! address can be handed out again by the next create. Each test therefore
//! uses its own stack size, so no stale struct of one test can ever describe
//! a live stack of another.

use fcontext::raw::{jump_fcontext, make_fcontext, Transfer};
use fcontext::stack_traits::page_size;
use fcontext::{create_fcontext_stack, destroy_fcontext_stack, FcontextStack};
use std::ffi::c_void;
use std::ptr;

fn errno() -> i32 {
    // SAFETY: __errno_location returns this thread's errno slot.
    unsafe { *libc::__errno_location() }
}

fn clear_errno() {
    // SAFETY: as above.
    unsafe { *libc::__errno_location() = 0 };
}

/// Base (lowest address) of the mapping `s` describes.
fn base(s: &FcontextStack) -> usize {
    s.sptr as usize - s.ssize
}

/// Whether every page of `lo..lo + len` is mapped (`mincore` fails with
/// `ENOMEM` when any page of the range is not).
fn is_mapped(lo: usize, len: usize) -> bool {
    let mut vec = vec![0u8; len.div_ceil(page_size())];
    // SAFETY: mincore only reads the page tables; `vec` has one byte per page.
    let rc = unsafe { libc::mincore(lo as *mut c_void, len, vec.as_mut_ptr()) };
    if rc != 0 {
        assert_eq!(errno(), libc::ENOMEM, "mincore failed otherwise");
    }
    rc == 0
}

/// Calls `destroy_fcontext_stack(&mut s)` with errno cleared; returns the
/// struct afterwards and errno.
fn destroy(mut s: FcontextStack) -> (FcontextStack, i32) {
    clear_errno();
    // SAFETY: `s` is a valid struct; no context runs on any of our stacks
    // while it is destroyed.
    unsafe { destroy_fcontext_stack(&mut s) };
    (s, errno())
}

fn assert_refused(forged: FcontextStack, what: &str) {
    let (after, err) = destroy(forged);
    assert_eq!(err, libc::EINVAL, "{what}: errno");
    assert_eq!(
        (after.sptr, after.ssize),
        (forged.sptr, forged.ssize),
        "{what}: the struct must be left unchanged"
    );
}

unsafe extern "C" fn fill_and_return(t: Transfer) {
    // SAFETY: data is the (lo, hi) pair of bounds the caller passes.
    let (lo, hi) = unsafe { *t.data.cast::<(usize, usize)>() };
    // Touch every usable page but the one holding our own frame.
    let mut at = lo;
    while at + page_size() < hi {
        // SAFETY: lo..hi is the usable part of the live stack we run on.
        unsafe { ptr::write_volatile(at as *mut u8, 0xa5) };
        at += page_size();
    }
    // SAFETY: resumes the creator, which never resumes us again.
    unsafe { jump_fcontext(t.fctx, ptr::null_mut()) };
}

/// Runs a context on `s` that writes to every usable page, and checks the
/// whole mapping (guard page included) is still mapped.
fn assert_fully_usable(s: &FcontextStack) {
    assert!(is_mapped(base(s), s.ssize), "mapping no longer complete");
    let mut bounds = (base(s) + page_size(), s.sptr as usize);
    // SAFETY: a fresh context on the live stack `s`; it writes only inside
    // its usable range and switches back once.
    unsafe {
        let ctx = make_fcontext(s.sptr, s.ssize, fill_and_return);
        jump_fcontext(ctx, (&raw mut bounds).cast());
    }
}

#[test]
fn forged_sizes_and_tops_of_a_live_stack_are_refused() {
    let page = page_size();
    let s = create_fcontext_stack(16 * page);
    assert!(!s.sptr.is_null(), "create failed: errno {}", errno());
    assert_eq!(s.ssize, 16 * page);

    // The real top with the size of one page: before the fix, destroy
    // unmapped the top page, leaked the rest and zeroed the struct.
    let one_page = FcontextStack {
        sptr: s.sptr,
        ssize: page,
    };
    assert_refused(one_page, "real top, one page");
    assert_fully_usable(&s);

    let too_big = FcontextStack {
        sptr: s.sptr,
        ssize: s.ssize + page,
    };
    assert_refused(too_big, "real top, one page too many");
    // A page-aligned sub-range of the mapping: lower top, real base.
    let lower_top = FcontextStack {
        sptr: (s.sptr as usize - page) as *mut c_void,
        ssize: s.ssize - page,
    };
    assert_refused(lower_top, "lower top, real base");
    assert_fully_usable(&s);

    let (after, err) = destroy(s);
    assert_eq!(err, 0);
    assert!(after.sptr.is_null() && after.ssize == 0);
    assert!(!is_mapped(base(&s), s.ssize), "destroy left pages mapped");
}

#[test]
fn double_destroy_is_refused() {
    let page = page_size();
    let s = create_fcontext_stack(24 * page);
    assert!(!s.sptr.is_null(), "create failed: errno {}", errno());
    let (after, err) = destroy(s);
    assert_eq!(err, 0);
    assert!(after.sptr.is_null() && after.ssize == 0);
    // A copy of the struct taken before the first destroy.
    assert_refused(s, "second destroy");
}

#[test]
fn create_and_destroy_still_work() {
    let page = page_size();
    for _ in 0..3 {
        let s = create_fcontext_stack(32 * page);
        assert!(!s.sptr.is_null(), "create failed: errno {}", errno());
        assert_eq!(s.ssize, 32 * page);
        assert_fully_usable(&s);
        let (after, err) = destroy(s);
        assert_eq!(err, 0);
        assert!(after.sptr.is_null() && after.ssize == 0);
        assert!(!is_mapped(base(&s), s.ssize));
    }
    // The documented no-ops.
    let (after, err) = destroy(FcontextStack {
        sptr: ptr::null_mut(),
        ssize: 0,
    });
    assert_eq!(err, 0);
    assert!(after.sptr.is_null() && after.ssize == 0);
    clear_errno();
    // SAFETY: a null pointer is documented as a no-op.
    unsafe { destroy_fcontext_stack(ptr::null_mut()) };
    assert_eq!(errno(), 0);
}
