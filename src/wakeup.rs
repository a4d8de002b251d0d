//! `Wakeup`: a single-waiter, single-thread notification with a stored
//! permit, for waking a connection task when other clients queue output for
//! it (published messages, CLIENT KILL, unblocking).
//!
//! Cheaper than a general async notify on the hot path: arming it is two
//! cell writes, no lock and no waiter list. Invariant: at most one task waits
//! on a `Wakeup` (its client's connection task).

use std::cell::Cell;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};

#[derive(Default)]
pub struct Wakeup {
    permit: Cell<bool>,
    waker: Cell<Option<Waker>>,
}

impl Wakeup {
    pub fn new() -> Self {
        Self::default()
    }

    /// Wakes the waiting task, or lets its next wait return at once.
    pub fn notify_one(&self) {
        self.permit.set(true);
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    /// Completes when `notify_one` was called since the last completion.
    pub fn notified(&self) -> Notified<'_> {
        Notified(self)
    }
}

pub struct Notified<'a>(&'a Wakeup);

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let w = self.0;
        if w.permit.replace(false) {
            return Poll::Ready(());
        }
        let new = match w.waker.take() {
            Some(old) if old.will_wake(cx.waker()) => old,
            _ => cx.waker().clone(),
        };
        w.waker.set(Some(new));
        Poll::Pending
    }
}
