//! Stroke-level undo and redo: each entry is the whole state before one edit. A 28 x 28 mask
//! is 784 bytes, so whole copies are cheaper and simpler than diffs, and undo is exact.

/// Undo and redo stacks of states; an edit is recorded with the state from before it.
#[derive(Clone, Debug)]
pub struct History<T> {
    undo: Vec<T>,
    redo: Vec<T>,
    limit: usize,
}

impl<T: Clone + PartialEq> History<T> {
    /// A history keeping at most `limit` undo steps (the oldest are dropped first).
    pub fn new(limit: usize) -> Self {
        History {
            undo: Vec::new(),
            redo: Vec::new(),
            limit: limit.max(1),
        }
    }

    /// Records one finished edit given the state before it and after it; an edit that
    /// changed nothing is not recorded (so undo never appears to do nothing).
    pub fn record(&mut self, before: T, after: &T) {
        if &before == after {
            return;
        }
        self.undo.push(before);
        if self.undo.len() > self.limit {
            self.undo.remove(0);
        }
        self.redo.clear();
    }

    /// Restores the state before the last edit; false when there is nothing to undo.
    pub fn undo(&mut self, current: &mut T) -> bool {
        match self.undo.pop() {
            Some(previous) => {
                self.redo.push(std::mem::replace(current, previous));
                true
            }
            None => false,
        }
    }

    /// Re-applies the last undone edit; false when there is nothing to redo.
    pub fn redo(&mut self, current: &mut T) -> bool {
        match self.redo.pop() {
            Some(next) => {
                self.undo.push(std::mem::replace(current, next));
                true
            }
            None => false,
        }
    }

    pub fn can_undo(&self) -> bool {
        !self.undo.is_empty()
    }

    pub fn can_redo(&self) -> bool {
        !self.redo.is_empty()
    }
}
