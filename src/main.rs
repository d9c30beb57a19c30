use clap::Parser;
use foobar_infra::ExitStatus;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = match foobar_infra::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            // `--help` and `--version` print on stdout and succeed. A usage error exits 1, not
            // clap's 2: that is "changes present" for `plan --detailed-exitcode`.
            let _ = err.print();
            return if err.use_stderr() {
                ExitStatus::Error
            } else {
                ExitStatus::Success
            }
            .into();
        }
    };
    match foobar_infra::run(cli) {
        Ok(status) => status.into(),
        Err(err) => {
            foobar_infra::ui::print_error(&err);
            ExitStatus::Error.into()
        }
    }
}
