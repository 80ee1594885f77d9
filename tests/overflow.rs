//! The stack-overflow reporter with the public API: a coroutine with runaway
//! recursion, run in a child process (this test binary re-run with one test
//! selected, by `tools::rerun_in_child`), must print the report naming its
//! stack's exact range and die by SIGABRT. A fault that is not an overflow
//! must end the child as it would have without the handler, also when the
//! child started with the signal ignored.

use fcontext_test_support as tools;

use fcontext::{Coroutine, ProtectedStack, SendCoroutine, Stack};
use std::time::Duration;

#[allow(unconditional_recursion)]
fn recurse(depth: u64) -> u64 {
    let frame = std::hint::black_box([depth; 64]);
    recurse(depth + 1) + frame[(depth % 64) as usize]
}

/// In the child: overflow a coroutine's stack; prints the expected range
/// first (stdout) so the parent can compare.
fn overflow_child(on_thread: bool) {
    fcontext::overflow::install_overflow_handler().unwrap();
    let run = || {
        let stack = ProtectedStack::new(64 * 1024).unwrap();
        let (lo, hi) = (
            stack.bottom().as_ptr() as usize,
            stack.top().as_ptr() as usize,
        );
        println!(
            "EXPECT stack overflow in coroutine (stack {lo:#x}..{hi:#x}, {} bytes)",
            hi - lo
        );
        let mut co = Coroutine::<(), (), u64, _>::with_stack(stack, |_, ()| recurse(0));
        let _ = co.resume(());
    };
    if on_thread {
        std::thread::spawn(run).join().unwrap();
    } else {
        run();
    }
    unreachable!("the overflow should have aborted the process");
}

/// In the child: the coroutine (and its stack) is made on the main thread
/// and resumed only on a thread without an alternate signal stack (what a
/// thread not started by `std` looks like), which made no stack: the resume
/// itself must give that thread one, or the overflow cannot be reported.
fn overflow_child_resumed_elsewhere() {
    fcontext::overflow::install_overflow_handler().unwrap();
    let stack = ProtectedStack::new(64 * 1024).unwrap();
    let (lo, hi) = (
        stack.bottom().as_ptr() as usize,
        stack.top().as_ptr() as usize,
    );
    println!(
        "EXPECT stack overflow in coroutine (stack {lo:#x}..{hi:#x}, {} bytes)",
        hi - lo
    );
    // SAFETY: the body holds nothing thread-bound across a suspend (it
    // never suspends).
    let mut co = unsafe { SendCoroutine::<(), (), u64, _>::with_stack(stack, |_, ()| recurse(0)) };
    std::thread::spawn(move || {
        let off = libc::stack_t {
            ss_sp: std::ptr::null_mut(),
            ss_flags: libc::SS_DISABLE,
            ss_size: 0,
        };
        // SAFETY: disabling this thread's own alternate signal stack.
        assert_eq!(unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) }, 0);
        let _ = co.resume(());
    })
    .join()
    .unwrap();
    unreachable!("the overflow should have aborted the process");
}

/// Caps the child's CPU time, so a handler that keeps returning into the
/// faulting instruction ends the child by SIGXCPU (a test failure) instead
/// of spinning for ever.
fn limit_cpu_time() {
    let limit = libc::rlimit {
        rlim_cur: 5,
        rlim_max: 6,
    };
    // SAFETY: plain setrlimit on this process.
    assert_eq!(unsafe { libc::setrlimit(libc::RLIMIT_CPU, &limit) }, 0);
}

/// The current disposition of `signal` (`sa_sigaction`).
fn disposition(signal: libc::c_int) -> libc::sighandler_t {
    // SAFETY: a query only; `old` is a valid out buffer.
    unsafe {
        let mut old: libc::sigaction = std::mem::zeroed();
        assert_eq!(libc::sigaction(signal, std::ptr::null(), &mut old), 0);
        old.sa_sigaction
    }
}

/// In the child: an ordinary fault (not in any guard page) after the
/// handler is installed. `signal` picks SIGSEGV (a write through a null
/// pointer) or SIGBUS (a read of a file mapping past the end of its file).
fn ordinary_fault_child(signal: libc::c_int) {
    limit_cpu_time();
    // The parent started us with `signal` ignored; std left it so.
    assert_eq!(disposition(signal), libc::SIG_IGN);
    fcontext::overflow::install_overflow_handler().unwrap();
    eprintln!("FAULTING");
    if signal == libc::SIGSEGV {
        // SAFETY: deliberately faulting write (nothing is mapped at 0).
        unsafe { std::ptr::write_volatile(std::ptr::null_mut::<u64>(), 1) };
    } else {
        // SAFETY: an empty memfd of one page mapped over two pages; reading
        // the second page (wholly past the end of file) raises SIGBUS.
        unsafe {
            let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
            let fd = libc::memfd_create(c"fcontext-sigbus".as_ptr(), 0);
            assert!(fd >= 0);
            assert_eq!(libc::ftruncate(fd, page as libc::off_t), 0);
            let map = libc::mmap(
                std::ptr::null_mut(),
                2 * page,
                libc::PROT_READ,
                libc::MAP_SHARED,
                fd,
                0,
            );
            assert_ne!(map, libc::MAP_FAILED);
            std::ptr::read_volatile(map.cast::<u8>().add(page));
        }
    }
    unreachable!("the fault should have killed the process");
}

/// Disables the calling thread's alternate signal stack: what a thread
/// that `std` did not start looks like.
fn disable_altstack() {
    let off = libc::stack_t {
        ss_sp: std::ptr::null_mut(),
        ss_flags: libc::SS_DISABLE,
        ss_size: 0,
    };
    // SAFETY: disabling this thread's own alternate signal stack.
    assert_eq!(unsafe { libc::sigaltstack(&off, std::ptr::null_mut()) }, 0);
}

/// Entry of a raw context that recurses until its stack runs out.
unsafe extern "C" fn runaway(_: fcontext::raw::Transfer) {
    recurse(0);
}

/// In the child: on a thread without an alternate signal stack, make a
/// stack and overflow it through the raw API (no `Coroutine` resume, which
/// would install one too): creating the stack alone must give the thread
/// an alternate stack, or the overflow cannot be reported.
fn overflow_child_stack_made_on_foreign_thread() {
    fcontext::overflow::install_overflow_handler().unwrap();
    std::thread::spawn(|| {
        disable_altstack();
        let stack = ProtectedStack::new(64 * 1024).unwrap();
        let (lo, hi) = (
            stack.bottom().as_ptr() as usize,
            stack.top().as_ptr() as usize,
        );
        println!(
            "EXPECT stack overflow in coroutine (stack {lo:#x}..{hi:#x}, {} bytes)",
            hi - lo
        );
        // SAFETY: a fresh context on a stack that outlives it (it never
        // comes back: the overflow aborts the process).
        unsafe {
            let ctx =
                fcontext::raw::make_fcontext(stack.top().as_ptr().cast(), stack.size(), runaway);
            fcontext::raw::jump_fcontext(ctx, std::ptr::null_mut());
        }
    })
    .join()
    .unwrap();
    unreachable!("the overflow should have aborted the process");
}

/// Reads an unregistered `PROT_NONE` page: an ordinary fault, not an
/// overflow.
fn plain_fault() -> ! {
    // SAFETY: a fresh inaccessible anonymous page, read on purpose.
    unsafe {
        let page = libc::sysconf(libc::_SC_PAGESIZE) as usize;
        let p = libc::mmap(
            std::ptr::null_mut(),
            page,
            libc::PROT_NONE,
            libc::MAP_PRIVATE | libc::MAP_ANONYMOUS,
            -1,
            0,
        );
        assert_ne!(p, libc::MAP_FAILED);
        std::ptr::read_volatile(p.cast::<u8>());
    }
    unreachable!("the fault should have ended the process");
}

extern "C" fn custom_previous(_: libc::c_int, _: *mut libc::siginfo_t, _: *mut libc::c_void) {
    let msg = b"previous handler ran\n";
    // SAFETY: async-signal-safe calls.
    unsafe {
        libc::write(libc::STDERR_FILENO, msg.as_ptr().cast(), msg.len());
        libc::_exit(42);
    }
}

/// Installs `target` (with `flags`) as the disposition of `signal`.
fn set_disposition(signal: libc::c_int, target: libc::sighandler_t, flags: libc::c_int) {
    // SAFETY: installing a valid disposition in a child process.
    unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = target;
        action.sa_flags = flags;
        libc::sigemptyset(&mut action.sa_mask);
        assert_eq!(libc::sigaction(signal, &action, std::ptr::null_mut()), 0);
    }
}

/// In the child: an ordinary SIGSEGV after the handler is installed over
/// `previous`: the default action, std's own handler (what a test binary
/// has), or a handler of the program's own.
fn ordinary_fault_over(previous: &str) {
    limit_cpu_time();
    match previous {
        "default" => set_disposition(libc::SIGSEGV, libc::SIG_DFL, 0),
        "std" => {}
        "custom" => set_disposition(
            libc::SIGSEGV,
            custom_previous as *const () as libc::sighandler_t,
            libc::SA_SIGINFO,
        ),
        other => panic!("unknown previous disposition {other}"),
    }
    fcontext::overflow::install_overflow_handler().unwrap();
    plain_fault();
}

/// How long a child may run; one that overruns is killed (SIGKILL), which
/// fails the case's signal assertion.
const CHILD_TIMEOUT: Duration = Duration::from_secs(60);

/// In the parent: runs `test_name` in a child and checks that it died by
/// SIGABRT printing the overflow report for the exact range the child
/// announced. In the child: returns true, so the caller runs the case.
fn overflow_case(test_name: &str) -> bool {
    let Some(out) = tools::rerun_in_child(test_name, CHILD_TIMEOUT) else {
        return true;
    };
    let stdout = String::from_utf8_lossy(&out.stdout);
    let expected = stdout
        .lines()
        .find_map(|l| Some(&l[l.find("EXPECT ")? + 7..]))
        .expect("the child printed the expected report");
    tools::assert_killed_by(&out, libc::SIGABRT, &format!("{expected}\n"));
    false
}

#[test]
fn coroutine_overflow_is_reported_on_the_main_thread_of_a_test() {
    if overflow_case("coroutine_overflow_is_reported_on_the_main_thread_of_a_test") {
        overflow_child(false);
    }
}

#[test]
fn coroutine_overflow_is_reported_on_a_spawned_thread() {
    if overflow_case("coroutine_overflow_is_reported_on_a_spawned_thread") {
        overflow_child(true);
    }
}

#[test]
fn coroutine_overflow_is_reported_on_a_thread_that_only_resumes() {
    if overflow_case("coroutine_overflow_is_reported_on_a_thread_that_only_resumes") {
        overflow_child_resumed_elsewhere();
    }
}

#[test]
fn overflow_is_reported_on_a_thread_that_only_made_the_stack() {
    if overflow_case("overflow_is_reported_on_a_thread_that_only_made_the_stack") {
        overflow_child_stack_made_on_foreign_thread();
    }
}

/// In the parent: the child's ordinary fault after the handler was
/// installed over `previous` went where it would have gone without us.
fn other_fault_case(test_name: &str, previous: &str) -> bool {
    let Some(out) = tools::rerun_in_child(test_name, CHILD_TIMEOUT) else {
        return true;
    };
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    match previous {
        "custom" => {
            assert_eq!(out.status.code(), Some(42), "{:?}", out.status);
            assert!(stderr.contains("previous handler ran"), "{stderr}");
        }
        // Under ASan the handler before ours is ASan's: it reports the
        // fault and exits with status 1.
        "std" if cfg!(feature = "sanitize-address") => {
            assert!(stderr.contains("AddressSanitizer: SEGV"), "{stderr}");
        }
        _ => {
            let stderr = tools::assert_killed_by(&out, libc::SIGSEGV, "");
            assert!(!stderr.contains("stack overflow in coroutine"), "{stderr}");
        }
    }
    false
}

#[test]
fn other_faults_over_the_default_action_kill_by_sigsegv() {
    if other_fault_case(
        "other_faults_over_the_default_action_kill_by_sigsegv",
        "default",
    ) {
        ordinary_fault_over("default");
    }
}

#[test]
fn other_faults_over_stds_handler_reach_it() {
    if other_fault_case("other_faults_over_stds_handler_reach_it", "std") {
        ordinary_fault_over("std");
    }
}

#[test]
fn other_faults_over_a_custom_handler_reach_it() {
    if other_fault_case("other_faults_over_a_custom_handler_reach_it", "custom") {
        ordinary_fault_over("custom");
    }
}

/// In the parent: runs `test_name` in a child with `signal` ignored from
/// its start (as when a parent ignored it before exec; set by a pre-exec
/// hook): the ordinary fault must kill it by that signal, as the kernel does
/// for a faulting process without our handler. In the child: returns true.
fn ignored_signal_case(test_name: &str, signal: libc::c_int) -> bool {
    use std::os::unix::process::CommandExt;
    let child = tools::rerun_in_child_with(test_name, CHILD_TIMEOUT, |cmd| {
        // SAFETY: signal(2) is async-signal-safe, as pre_exec requires.
        unsafe {
            cmd.pre_exec(move || {
                libc::signal(signal, libc::SIG_IGN);
                Ok(())
            });
        }
    });
    let Some(out) = child else {
        return true;
    };
    let stderr = tools::assert_killed_by(&out, signal, "FAULTING");
    assert!(!stderr.contains("stack overflow"), "{stderr}");
    false
}

#[test]
#[cfg_attr(
    feature = "sanitize-address",
    ignore = "ASan installs its own SIGSEGV/SIGBUS handler"
)]
fn ordinary_segv_kills_when_sigsegv_was_ignored() {
    if ignored_signal_case(
        "ordinary_segv_kills_when_sigsegv_was_ignored",
        libc::SIGSEGV,
    ) {
        ordinary_fault_child(libc::SIGSEGV);
    }
}

#[test]
#[cfg_attr(
    feature = "sanitize-address",
    ignore = "ASan installs its own SIGSEGV/SIGBUS handler"
)]
fn ordinary_sigbus_kills_when_sigbus_was_ignored() {
    if ignored_signal_case(
        "ordinary_sigbus_kills_when_sigbus_was_ignored",
        libc::SIGBUS,
    ) {
        ordinary_fault_child(libc::SIGBUS);
    }
}
