/// mimalloc: the run makes hundreds of thousands of small allocations (index pages, file names,
/// candidates); with glibc's allocator a warm run spent a fifth of its time in page faults.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    let args = wheelcheck::cli::Args::parse_command_line();
    let code = match wheelcheck::app::run(args) {
        Ok(code) => code,
        Err(err) => {
            eprintln!("error: {err:#}");
            if err.downcast_ref::<wheelcheck::app::InputError>().is_some() {
                wheelcheck::app::exit::INPUT
            } else {
                wheelcheck::app::exit::UNKNOWN
            }
        }
    };
    std::process::exit(code);
}
