//! What the AddressSanitizer build (`cargo xtask asan`: feature
//! `sanitize-address`, `detect_stack_use_after_return=1`) must catch on
//! coroutine stacks. Without the feature this file has no tests.

#[cfg(feature = "sanitize-address")]
mod asan {
    use fcontext::{Coroutine, CoroutineResult, Yielder};
    use fcontext_test_support as tools;
    use std::hint::black_box;
    use std::time::Duration;

    /// The address of a local of a frame that has returned.
    #[inline(never)]
    fn address_of_a_dead_local() -> usize {
        let local = black_box([7u8; 64]);
        black_box(&local).as_ptr() as usize
    }

    /// A coroutine hands out a pointer into a frame of its own stack that
    /// has returned; the resumer reads through it while the coroutine is
    /// suspended. With fake stacks, ASan keeps that frame poisoned and must
    /// report a stack-use-after-return (in a child process: the report
    /// ends it).
    #[test]
    fn use_after_return_on_a_coroutine_stack_is_reported() {
        let name = "asan::use_after_return_on_a_coroutine_stack_is_reported";
        if let Some(out) = tools::rerun_in_child(name, Duration::from_secs(60)) {
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(!out.status.success(), "the bad read went unnoticed");
            assert!(
                stderr.contains("stack-use-after-return"),
                "no use-after-return report:\n{stderr}"
            );
            return;
        }
        let mut co = Coroutine::new(|y: &Yielder<(), usize>, ()| {
            y.suspend(address_of_a_dead_local());
        })
        .unwrap();
        let Ok(CoroutineResult::Yield(dead)) = co.resume(()) else {
            panic!("the coroutine yields the address");
        };
        // SAFETY: deliberately invalid (the frame has returned): ASan must
        // stop the process here.
        let value = unsafe { std::ptr::read_volatile(dead as *const u8) };
        println!("read {value} without a report");
    }
}
