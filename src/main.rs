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
