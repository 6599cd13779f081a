//! A global allocator that counts allocations, shared by the no-allocation test and the
//! hot-path bench (each includes this file with `#[path]` and installs it).
//!
//! The count is per thread: the test harness's main thread allocates while it waits for the
//! test thread (CI caught 4 stray allocations that way), and those are not the hot path's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

pub struct Counting;

thread_local! {
    // const-initialised and without Drop, so reading it never allocates or registers a destructor.
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // try_with: during thread teardown the slot may be gone; those allocations are not ours.
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
}

/// Allocations made by the calling thread so far.
pub fn allocations() -> usize {
    ALLOCS.with(|c| c.get())
}
