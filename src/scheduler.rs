//! `Scheduler`: a small round-robin manager for many cooperative tasks.
//!
//! Each task is a [`Coroutine`] on a stack borrowed from a [`StackPool`].
//! A *pass* ([`Scheduler::run_once`]) resumes every live task once, in spawn
//! order; a task runs until it calls [`Task::yield_now`] (it is resumed again
//! in the next pass) or returns (it is finished: its coroutine is dropped and
//! its stack goes back to the pool at once, ready for the next spawn).
//! [`Scheduler::run`] repeats passes until no task is left.
//!
//! A task that panics is finished as well: the panic is caught at the
//! scheduler (so one bad task does not take the others down), counted in
//! [`Stats::panicked`], and its stack is released like any other.
//!
//! ```
//! use fcontext::scheduler::Scheduler;
//! use std::{cell::RefCell, rc::Rc};
//!
//! let log = Rc::new(RefCell::new(Vec::new()));
//! let mut sched = Scheduler::new().unwrap();
//! for name in ["a", "b"] {
//!     let log = log.clone();
//!     sched.spawn(move |task| {
//!         for step in 0..2 {
//!             log.borrow_mut().push(format!("{name}{step}"));
//!             task.yield_now();
//!         }
//!     }).unwrap();
//! }
//! sched.run();
//! assert_eq!(*log.borrow(), ["a0", "b0", "a1", "b1"]);
//! assert_eq!(sched.stats().finished, 2);
//! ```

use crate::copystack::{CopyStack, CopyStackSource};
use crate::coroutine::{Coroutine, CoroutineResult, Yielder};
use crate::stack::{PooledStack, Stack, StackError, StackPool};
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Identifies a spawned task (spawn order, starting at 0).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TaskId(pub u64);

/// What a task's closure receives: lets it yield and know who it is.
pub struct Task<'a> {
    yielder: &'a Yielder<(), ()>,
    id: TaskId,
}

impl Task<'_> {
    /// Gives the other tasks their turn; returns in the next pass.
    #[inline]
    pub fn yield_now(&self) {
        self.yielder.suspend(());
    }

    /// This task's id.
    pub fn id(&self) -> TaskId {
        self.id
    }
}

/// Drops a task's panic payload without letting a panic of its destructor
/// escape. The panic of such a destructor has a payload of its own, dropped
/// the same way; after a few payloads that all panic the last one is leaked,
/// so a pathological chain cannot keep the pass busy.
fn drop_payload(payload: Box<dyn Any + Send>) {
    let mut payload = payload;
    for _ in 0..8 {
        match catch_unwind(AssertUnwindSafe(move || drop(payload))) {
            Ok(()) => return,
            Err(again) => payload = again,
        }
    }
    core::mem::forget(payload);
}

/// Counters kept by a [`Scheduler`].
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Tasks spawned and not yet finished.
    pub live: usize,
    /// Tasks that returned or panicked.
    pub finished: u64,
    /// Of those, tasks that panicked.
    pub panicked: u64,
    /// Passes run (calls of [`Scheduler::run_once`] that had work to do).
    pub passes: u64,
    /// Resumes done across all passes.
    pub resumes: u64,
}

struct Entry<S: Stack> {
    id: TaskId,
    coroutine: Coroutine<(), (), (), S>,
}

/// Where a [`Scheduler`] gets the stack of each task it spawns: a
/// [`StackPool`] (the default) or, for copy-stack tasks, a
/// [`CopyStackSource`].
pub trait StackSource {
    /// The stack each task runs on.
    type Stack: Stack;

    /// A stack for a new task.
    ///
    /// # Errors
    /// When no stack can be had.
    fn get_stack(&mut self) -> Result<Self::Stack, StackError>;
}

impl StackSource for StackPool {
    type Stack = PooledStack;

    fn get_stack(&mut self) -> Result<PooledStack, StackError> {
        self.get()
    }
}

impl StackSource for CopyStackSource {
    type Stack = CopyStack;

    fn get_stack(&mut self) -> Result<CopyStack, StackError> {
        Ok(self.next_copy_stack())
    }
}

/// A round-robin scheduler of coroutine tasks on pooled stacks (or on the
/// stacks of another [`StackSource`]). Tasks need not be `Send`, so the
/// scheduler is not either.
pub struct Scheduler<P: StackSource = StackPool> {
    pool: P,
    tasks: Vec<Entry<P::Stack>>,
    next_id: u64,
    stats: Stats,
}

impl Scheduler<StackPool> {
    /// How many unused stacks the default pool keeps: enough that steady
    /// spawning of short tasks never maps memory, few enough that a burst of
    /// thousands of tasks does not stay resident after it is over.
    pub const DEFAULT_POOL_CAPACITY: usize = 256;

    /// A scheduler whose tasks get default-sized (128 KiB) protected stacks
    /// from a fresh pool.
    ///
    /// # Errors
    /// When the default stack size is refused (a bounded `RLIMIT_STACK`
    /// below 128 KiB).
    pub fn new() -> Result<Self, StackError> {
        Ok(Self::with_pool(StackPool::with_default_size(
            Self::DEFAULT_POOL_CAPACITY,
        )?))
    }

    /// A scheduler taking its stacks from `pool` (which may be shared with
    /// other code; `StackPool` is a cheap handle).
    pub fn with_pool(pool: StackPool) -> Self {
        Self::with_source(pool)
    }

    /// The pool the tasks' stacks come from.
    pub fn pool(&self) -> &StackPool {
        &self.pool
    }
}

impl<P: StackSource> Scheduler<P> {
    /// A scheduler taking its stacks from `source`.
    pub fn with_source(source: P) -> Self {
        Scheduler {
            pool: source,
            tasks: Vec::new(),
            next_id: 0,
            stats: Stats::default(),
        }
    }

    /// The source the tasks' stacks come from.
    pub fn source(&self) -> &P {
        &self.pool
    }

    /// Adds a task; it first runs in the next pass.
    ///
    /// # Errors
    /// When no stack can be had (the pool is empty and `mmap` fails).
    pub fn spawn<F>(&mut self, f: F) -> Result<TaskId, StackError>
    where
        F: FnOnce(&Task<'_>) + 'static,
    {
        let id = TaskId(self.next_id);
        let stack = self.pool.get_stack()?;
        // Tasks may capture `Rc`s and the like: coroutines never leave the
        // thread that made them, and neither does the scheduler.
        let coroutine = Coroutine::with_stack(stack, move |yielder: &Yielder<(), ()>, ()| {
            f(&Task { yielder, id });
        });
        self.next_id += 1;
        self.tasks.push(Entry { id, coroutine });
        self.stats.live += 1;
        Ok(id)
    }

    /// One pass: resumes every live task once, in spawn order, and releases
    /// the stacks of the tasks that finished. Returns the number of tasks
    /// still live. A copy-stack task that cannot run now (this pass runs
    /// inside a coroutine of its shared stack) stays live, untouched.
    pub fn run_once(&mut self) -> usize {
        self.pass().0
    }

    /// [`run_once`](Self::run_once), also returning how many tasks could
    /// not run.
    fn pass(&mut self) -> (usize, usize) {
        if self.tasks.is_empty() {
            return (0, 0);
        }
        let stats = &mut self.stats;
        stats.passes += 1;
        let mut refused = 0;
        // retain_mut keeps spawn order and drops finished coroutines (and so
        // returns their stacks to the pool) as it goes.
        self.tasks.retain_mut(|entry| {
            let outcome = catch_unwind(AssertUnwindSafe(|| entry.coroutine.resume(())));
            let live = match outcome {
                Ok(Ok(CoroutineResult::Yield(()))) => true,
                Ok(Ok(CoroutineResult::Complete(()))) => false,
                // A task is finished only through the arms below, so the
                // only refusal left is a busy copy stack.
                Ok(Err(_busy)) => {
                    refused += 1;
                    return true;
                }
                Err(payload) => {
                    stats.panicked += 1;
                    drop_payload(payload);
                    false
                }
            };
            stats.resumes += 1;
            if !live {
                stats.live -= 1;
                stats.finished += 1;
            }
            live
        });
        (self.tasks.len(), refused)
    }

    /// Runs passes until every task has finished.
    ///
    /// # Panics
    /// When a whole pass could run no task: every live task is a copy-stack
    /// task whose shared stack is busy because `run` was called from inside
    /// a coroutine of that stack, so waiting would never end.
    pub fn run(&mut self) {
        loop {
            match self.pass() {
                (0, _) => return,
                (live, refused) if refused == live => panic!(
                    "Scheduler::run: none of the {live} live tasks can run: their shared stacks \
                     are busy (run was called from inside a coroutine of the same shared stack)"
                ),
                _ => {}
            }
        }
    }

    /// The counters so far.
    pub fn stats(&self) -> Stats {
        self.stats
    }

    /// Ids of the live tasks, in the order a pass resumes them.
    pub fn live_tasks(&self) -> impl Iterator<Item = TaskId> + '_ {
        self.tasks.iter().map(|e| e.id)
    }
}

impl<P: StackSource + core::fmt::Debug> core::fmt::Debug for Scheduler<P> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Scheduler")
            .field("pool", &self.pool)
            .field("stats", &self.stats)
            .finish()
    }
}
