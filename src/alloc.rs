//! The allocator setting the concord binary and the benchmarks share.
//!
//! Both use mimalloc as the global allocator (large short-lived buffers, such
//! as design columns and joins, are several times cheaper to allocate than
//! with the system allocator); this module keeps its memory instead of
//! returning it to the operating system.

// mimalloc's own C API (not exposed by the crate without its `extended`
// feature); naming the crate links its C library into every binary that uses
// this module, whichever allocator that binary chose.
extern crate mimalloc;
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in `mi_option_e` (15 in mimalloc 2 and in the v3
/// that libmimalloc-sys builds by default).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

/// Keeps freed memory instead of returning it to the OS after 10 ms.
///
/// The fits free and re-allocate buffers of hundreds of MB, and every return
/// made the kernel zero the pages again on their next use (a fifth of the main
/// job's time went to page faults, and a quarter of a two-way FE OLS fit
/// repeated in a benchmark). Call it first in `main`, before any thread
/// starts; it only matters when mimalloc is the global allocator.
// The linked mimalloc is the global allocator's only in the binaries that
// declare it (src/main.rs, the benchmarks); elsewhere the setting is unused.
///
/// ```
/// concord::alloc::keep_freed_memory();
/// ```
pub fn keep_freed_memory() {
    // SAFETY: a plain setter of a global option of the linked mimalloc.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
}
