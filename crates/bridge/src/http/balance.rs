//! Which serving thread takes the next connection (`http.runtime:
//! per_core`): the one with the fewest open, like Envoy's "exact"
//! connection balance. Every thread accepts on the same socket, and left
//! to the kernel whichever wakes first wins, so a burst of keep-alive
//! connections can land 11 to 5 on two threads and stay there for their
//! lifetime; a thread with more than the fewest stops accepting until the
//! others catch up.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Notify;

/// The open connections of each serving thread.
pub struct AcceptBalance {
    open: Vec<AtomicUsize>,
    /// Woken whenever a count changes.
    changed: Notify,
}

impl AcceptBalance {
    pub fn new(threads: usize) -> Arc<AcceptBalance> {
        Arc::new(AcceptBalance {
            open: (0..threads.max(1)).map(|_| AtomicUsize::new(0)).collect(),
            changed: Notify::new(),
        })
    }

    /// Thread `index`'s part in the balance.
    pub fn turn(self: &Arc<Self>, index: usize) -> AcceptTurn {
        assert!(index < self.open.len(), "thread {index} is not balanced");
        AcceptTurn {
            balance: self.clone(),
            index,
        }
    }

    /// Whether thread `index` has no more open connections than any other
    /// (ties all accept, and the kernel picks among them).
    fn is_fewest(&self, index: usize) -> bool {
        let mine = self.open[index].load(Ordering::Acquire);
        self.open
            .iter()
            .all(|other| mine <= other.load(Ordering::Acquire))
    }

    /// Resolves once `is_fewest(index) == fewest`.
    async fn until(&self, index: usize, fewest: bool) {
        loop {
            // Registered before the check, so a change between the check
            // and the wait still wakes it.
            let changed = self.changed.notified();
            tokio::pin!(changed);
            changed.as_mut().enable();
            if self.is_fewest(index) == fewest {
                return;
            }
            changed.await;
        }
    }
}

/// One serving thread's view of the [`AcceptBalance`].
#[derive(Clone)]
pub struct AcceptTurn {
    balance: Arc<AcceptBalance>,
    index: usize,
}

impl AcceptTurn {
    /// Resolves once this thread has the fewest connections (at once if
    /// it has).
    pub async fn mine(&self) {
        self.balance.until(self.index, true).await;
    }

    /// Resolves once another thread has fewer connections than this one:
    /// an `accept` waiting here should give way.
    pub async fn lost(&self) {
        self.balance.until(self.index, false).await;
    }

    /// Counts a connection this thread took; it is counted until the
    /// returned guard drops.
    pub fn opened(&self) -> OpenConnection {
        self.balance.open[self.index].fetch_add(1, Ordering::AcqRel);
        self.balance.changed.notify_waiters();
        OpenConnection(self.clone())
    }

    /// This thread's index, for logs.
    pub fn index(&self) -> usize {
        self.index
    }
}

/// A connection counted in its thread's share; uncounted when dropped.
pub struct OpenConnection(AcceptTurn);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        let turn = &self.0;
        turn.balance.open[turn.index].fetch_sub(1, Ordering::AcqRel);
        turn.balance.changed.notify_waiters();
    }
}

#[cfg(test)]
mod tests;
