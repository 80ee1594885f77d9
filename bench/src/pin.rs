//! Pins the benchmark process to one CPU, the highest it may run on (the
//! C-ABI benchmark does the same), so a run is not spread over cores that
//! other jobs on a shared machine keep busy. Included with `#[path]` by the
//! benchmark binaries: the context crate's binary must not link this crate's
//! library, which links fcontext (both define `jump_fcontext`).

/// Restricts the calling process to its highest allowed CPU; prints which.
pub fn pin_to_one_cpu() {
    // SAFETY: plain libc calls on a zeroed, properly sized cpu_set_t.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        if libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) != 0 {
            return;
        }
        let Some(cpu) = (0..libc::CPU_SETSIZE as usize)
            .rev()
            .find(|&c| libc::CPU_ISSET(c, &set))
        else {
            return;
        };
        libc::CPU_ZERO(&mut set);
        libc::CPU_SET(cpu, &mut set);
        if libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0 {
            eprintln!("benchmark pinned to CPU {cpu}");
        }
    }
}
