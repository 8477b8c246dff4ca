// mimalloc: large short-lived buffers (design columns, joins) are several times
// cheaper to allocate than with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

// mimalloc's own C API (linked in by the allocator; not exposed by the crate
// without its `extended` feature).
extern "C" {
    fn mi_option_set(option: std::ffi::c_int, value: std::ffi::c_long);
}

/// `mi_option_purge_delay` in `mi_option_e` (15 in mimalloc 2 and in the v3
/// that libmimalloc-sys builds by default).
const MI_OPTION_PURGE_DELAY: std::ffi::c_int = 15;

fn main() -> std::process::ExitCode {
    // Keep freed memory instead of returning it to the OS after 10 ms: the
    // fits free and re-allocate buffers of hundreds of MB, and every return
    // made the kernel zero the pages again on the next use (a fifth of the
    // main job's time went to page faults). The process is short-lived.
    // SAFETY: a plain setter of a global option, called before any thread starts.
    unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, -1) };
    concord::cli::main()
}
