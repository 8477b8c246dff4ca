// mimalloc: large short-lived buffers (design columns, joins) are several times
// cheaper to allocate than with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    // The process is short-lived: keep freed memory rather than have the
    // kernel zero it again (see `concord::alloc`).
    concord::alloc::keep_freed_memory();
    concord::cli::main()
}
