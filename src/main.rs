// mimalloc: large short-lived buffers (design columns, joins) are several times
// cheaper to allocate than with the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    concord::cli::main()
}
