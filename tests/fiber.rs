//! Fiber behaviour: symmetric switches, ending, resume_with, drop.

use fcontext::{Fiber, FixedStack, Stack};
use std::cell::{Cell, RefCell};
use std::rc::Rc;

#[test]
fn ping_pong_with_main() {
    let count = Rc::new(Cell::new(0u32));
    let c = count.clone();
    let mut fiber = Fiber::new(move |mut main| {
        for _ in 0..1000 {
            c.set(c.get() + 1);
            main = main.resume().expect("main is suspended, not ended");
        }
        main
    })
    .unwrap();
    for i in 0..1000 {
        fiber = fiber.resume().expect("fiber is still running");
        assert_eq!(count.get(), i + 1);
    }
    // The fiber's loop ends and it returns `main`, so the resume that follows
    // comes back with nothing to go to.
    assert!(fiber.resume().is_none());
    assert_eq!(count.get(), 1000);
}

#[test]
fn fibers_switch_to_each_other_directly() {
    let log = Rc::new(RefCell::new(Vec::new()));
    let (la, lb) = (log.clone(), log.clone());
    let b = Fiber::new(move |from_a| {
        lb.borrow_mut().push("b1");
        // Back to a, which resumes us again later.
        let from_a = from_a.resume().unwrap();
        lb.borrow_mut().push("b2");
        from_a
    })
    .unwrap();
    let a = Fiber::new(move |main| {
        la.borrow_mut().push("a1");
        // a -> b -> a
        let b = b.resume().unwrap();
        la.borrow_mut().push("a2");
        // a -> b; b ends and continues with a, so this returns None.
        assert!(b.resume().is_none());
        la.borrow_mut().push("a3");
        main
    })
    .unwrap();
    assert!(a.resume().is_none());
    assert_eq!(*log.borrow(), ["a1", "b1", "a2", "b2", "a3"]);
}

#[test]
fn resume_with_runs_on_top_of_the_target_before_it_continues() {
    let stack = FixedStack::new(64 * 1024).unwrap();
    let range = stack.bottom().as_ptr() as usize..stack.top().as_ptr() as usize;
    let order = Rc::new(RefCell::new(Vec::new()));
    let o = order.clone();
    let fiber = Fiber::with_stack(stack, move |main| {
        o.borrow_mut().push("fiber start");
        let main = main.resume().unwrap();
        o.borrow_mut().push("fiber continues");
        main
    });
    let fiber = fiber.resume().unwrap();
    let o = order.clone();
    let on_stack = Rc::new(Cell::new(false));
    let seen = on_stack.clone();
    let result = fiber.resume_with(move |main| {
        let local = 0u8;
        // Under ASan with use-after-return detection `local` may sit in a
        // fake stack: check the frame it stands for.
        let at = fcontext::__private::real_stack_address(&local as *const u8 as usize);
        seen.set(range.contains(&at));
        o.borrow_mut().push("on top");
        main
    });
    assert!(result.is_none());
    assert!(on_stack.get(), "the closure ran on the fiber's stack");
    assert_eq!(
        *order.borrow(),
        ["fiber start", "on top", "fiber continues"]
    );
}

#[test]
fn resume_with_result_is_what_the_target_receives() {
    // The closure keeps the fiber it receives (main) aside and hands the
    // target a different fiber, `c`, instead. The target then switches to
    // `c`, which ends by continuing with main.
    let log = Rc::new(RefCell::new(Vec::new()));
    let stash: Rc<RefCell<Option<Fiber>>> = Rc::new(RefCell::new(None));
    let l = log.clone();
    let target = Fiber::new(move |main| {
        let received = main.resume().unwrap();
        l.borrow_mut().push("target switches to what it received");
        received.resume();
        unreachable!("c drops the target without resuming it");
    })
    .unwrap();
    let target = target.resume().unwrap();
    let (l, st) = (log.clone(), stash.clone());
    let back = target.resume_with(move |main| {
        l.borrow_mut().push("closure");
        *st.borrow_mut() = Some(main);
        let (l, st) = (l.clone(), st.clone());
        Fiber::new(move |target| {
            l.borrow_mut().push("c runs");
            drop(target); // unwinds the target's stack, then comes back here
            st.borrow_mut().take().unwrap()
        })
        .unwrap()
    });
    assert!(back.is_none(), "c ended and continued with main");
    assert_eq!(
        *log.borrow(),
        ["closure", "target switches to what it received", "c runs"]
    );
}

struct Counted(Rc<Cell<u32>>);
impl Drop for Counted {
    fn drop(&mut self) {
        self.0.set(self.0.get() + 1);
    }
}

#[test]
fn dropping_a_suspended_fiber_runs_its_destructors() {
    let drops = Rc::new(Cell::new(0));
    let (d1, d2) = (drops.clone(), drops.clone());
    let fiber = Fiber::new(move |main| {
        let _a = Counted(d1);
        let _b = Counted(d2);
        main.resume();
        unreachable!("dropped fibers are never resumed normally");
    })
    .unwrap();
    let fiber = fiber.resume().unwrap();
    assert_eq!(drops.get(), 0);
    drop(fiber);
    assert_eq!(drops.get(), 2);
}

#[test]
fn dropping_an_unstarted_fiber_drops_its_closure() {
    let drops = Rc::new(Cell::new(0));
    let captured = Counted(drops.clone());
    let fiber = Fiber::new(move |main| {
        drop(captured);
        main
    })
    .unwrap();
    drop(fiber);
    assert_eq!(drops.get(), 1);
}

#[test]
fn many_fibers_created_and_finished() {
    for i in 0..200u32 {
        let fiber = Fiber::new(move |main| {
            assert!(i < 200);
            main
        })
        .unwrap();
        assert!(fiber.resume().is_none());
    }
}

#[test]
fn resume_with_panic_is_raised_in_the_target() {
    // main -> a; a starts b; b calls `a.resume_with(g)` and g panics. The
    // panic surfaces in `a` where its `b.resume()` returns; the fiber g
    // received (b) is dropped by the panic, which unwinds b's stack.
    let drops = Rc::new(Cell::new(0));
    let seen = Rc::new(RefCell::new(String::new()));
    let (d, s) = (drops.clone(), seen.clone());
    let a = Fiber::new(move |main| {
        let b = Fiber::new(move |a| {
            let _guard = Counted(d);
            a.resume_with(|_b| -> Fiber { panic!("g failed") });
            unreachable!("b is unwound, never resumed normally");
        })
        .unwrap();
        let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| b.resume()))
            .expect_err("the closure's panic is raised here");
        *s.borrow_mut() = err.downcast_ref::<&str>().unwrap().to_string();
        main
    })
    .unwrap();
    assert!(a.resume().is_none());
    assert_eq!(*seen.borrow(), "g failed");
    assert_eq!(drops.get(), 1, "b's stack was unwound");
}

#[test]
fn resume_with_on_a_fiber_that_never_ran() {
    // The closure runs before the entry closure starts; what it returns is
    // the fiber the entry closure receives.
    let order = Rc::new(RefCell::new(Vec::new()));
    let o = order.clone();
    let pool = fcontext::StackPool::new(64 * 1024, 1).unwrap();
    let fiber = Fiber::with_stack(pool.get().unwrap(), move |main| {
        o.borrow_mut().push("entry");
        main
    });
    let o = order.clone();
    let back = fiber.resume_with(move |main| {
        o.borrow_mut().push("on top");
        main
    });
    assert!(back.is_none());
    assert_eq!(*order.borrow(), ["on top", "entry"]);
    // The fiber's stack went back to the pool when the fiber ended.
    assert_eq!(pool.cached(), 1);
}
