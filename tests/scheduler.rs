//! Scheduler: round-robin order, stack release, statistics, panicking tasks.

use fcontext::scheduler::{Scheduler, Stats, TaskId};
use fcontext::stack::StackPool;
use std::cell::RefCell;
use std::rc::Rc;

#[test]
fn passes_resume_every_live_task_once_in_spawn_order() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let mut sched = Scheduler::new().unwrap();
    // Task i yields i times, so it runs in passes 1..=i+1.
    for i in 0..4u32 {
        let log = log.clone();
        let id = sched
            .spawn(move |task| {
                for step in 0..=i {
                    log.borrow_mut().push((task.id().0, step));
                    if step < i {
                        task.yield_now();
                    }
                }
            })
            .unwrap();
        assert_eq!(id, TaskId(u64::from(i)));
    }
    assert_eq!(sched.stats().live, 4);
    assert_eq!(sched.run_once(), 3);
    assert_eq!(*log.borrow(), [(0, 0), (1, 0), (2, 0), (3, 0)]);
    assert_eq!(
        sched.live_tasks().collect::<Vec<_>>(),
        [TaskId(1), TaskId(2), TaskId(3)]
    );
    sched.run();
    assert_eq!(
        log.borrow()[4..],
        [(1, 1), (2, 1), (3, 1), (2, 2), (3, 2), (3, 3)]
    );
    assert_eq!(
        sched.stats(),
        Stats {
            live: 0,
            finished: 4,
            panicked: 0,
            passes: 4,
            resumes: 4 + 3 + 2 + 1
        }
    );
    // Nothing left: a pass does nothing and is not counted.
    assert_eq!(sched.run_once(), 0);
    assert_eq!(sched.stats().passes, 4);
}

#[test]
fn finished_tasks_release_their_stacks_at_once() {
    let pool = StackPool::new(64 * 1024, 16).unwrap();
    let mut sched = Scheduler::with_pool(pool.clone());
    sched.spawn(|_| {}).unwrap();
    sched.spawn(|t| t.yield_now()).unwrap();
    sched
        .spawn(|t| {
            t.yield_now();
            t.yield_now();
        })
        .unwrap();
    assert_eq!(pool.cached(), 0, "all three stacks are in use");
    sched.run_once();
    assert_eq!(pool.cached(), 1);
    sched.run_once();
    assert_eq!(pool.cached(), 2);
    // A new task reuses a released stack instead of mapping one.
    sched.spawn(|_| {}).unwrap();
    assert_eq!(pool.cached(), 1);
    sched.run();
    assert_eq!(pool.cached(), 3);
    assert_eq!(sched.stats().finished, 4);
}

#[test]
fn a_panicking_task_is_finished_and_the_others_continue() {
    let done = Rc::new(RefCell::new(0));
    let mut sched = Scheduler::new().unwrap();
    for i in 0..3 {
        let done = done.clone();
        sched
            .spawn(move |t| {
                t.yield_now();
                if i == 1 {
                    panic!("task 1 fails on purpose");
                }
                t.yield_now();
                *done.borrow_mut() += 1;
            })
            .unwrap();
    }
    sched.run();
    assert_eq!(*done.borrow(), 2);
    let stats = sched.stats();
    assert_eq!((stats.live, stats.finished, stats.panicked), (0, 3, 1));
}

#[test]
fn dropping_a_scheduler_unwinds_suspended_tasks() {
    struct Flag(Rc<RefCell<u32>>);
    impl Drop for Flag {
        fn drop(&mut self) {
            *self.0.borrow_mut() += 1;
        }
    }
    let dropped = Rc::new(RefCell::new(0));
    let mut sched = Scheduler::new().unwrap();
    for _ in 0..5 {
        let flag = Flag(dropped.clone());
        sched
            .spawn(move |t| {
                let _keep = flag;
                loop {
                    t.yield_now();
                }
            })
            .unwrap();
    }
    sched.run_once();
    assert_eq!(*dropped.borrow(), 0);
    drop(sched);
    assert_eq!(*dropped.borrow(), 5, "every task's locals were dropped");
}

#[test]
fn many_tasks_share_a_small_pool() {
    let pool = StackPool::new(64 * 1024, 8).unwrap();
    let mut sched = Scheduler::with_pool(pool.clone());
    let sum = Rc::new(RefCell::new(0u64));
    for i in 0..1000u64 {
        let sum = sum.clone();
        sched
            .spawn(move |t| {
                for _ in 0..(i % 5) {
                    t.yield_now();
                }
                *sum.borrow_mut() += i;
            })
            .unwrap();
    }
    sched.run();
    assert_eq!(*sum.borrow(), (0..1000).sum::<u64>());
    assert_eq!(sched.stats().passes, 5);
    assert_eq!(pool.cached(), 8, "the pool keeps only its capacity");
}
