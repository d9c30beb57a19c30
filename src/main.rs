use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = foobar_infra::cli::Cli::parse();
    match foobar_infra::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            foobar_infra::ui::print_error(&err);
            foobar_infra::ExitStatus::Error.into()
        }
    }
}
