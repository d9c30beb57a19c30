//! Errors that end a command. Problems inside a topology file are `diagnostic::Problem`s instead:
//! they are reported all together, with their source locations.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum Error {
    #[error("cannot read {}", path.display())]
    #[diagnostic(code(io::read), help("check the path given with -i/--inventory"))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read {}: it is {what}, not a regular file", path.display())]
    #[diagnostic(
        code(io::not_a_file),
        help("give -i/--inventory the topology file itself (a symbolic link to one is fine)")
    )]
    NotAFile { path: PathBuf, what: &'static str },
    #[error("cannot read {}: {reason}", path.display())]
    #[diagnostic(
        code(io::too_large),
        help("a topology is a few kilobytes; check that -i/--inventory names the right file")
    )]
    TooLarge { path: PathBuf, reason: String },
    #[error("cannot write {}", path.display())]
    #[diagnostic(code(io::write), help("check that the folder is writable"))]
    Write {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} is a symbolic link: nothing is written through one", path.display())]
    #[diagnostic(
        code(io::symlink),
        help(
            "the output folder holds a link where a folder or file of the render goes; remove it \
             (nothing was written through it) and run again"
        )
    )]
    OutputLink { path: PathBuf },
    #[error("refusing to write `{path}`: it is not a plain path under the output folder")]
    #[diagnostic(
        code(io::escape),
        help(
            "a rendered path has a `..` or `.` component or names no file, which the topology \
             checks should have refused; please report it"
        )
    )]
    OutputEscape { path: String },
    #[error("refusing to render into {}: {reason}", path.display())]
    #[diagnostic(code(render::out), help("{help}"))]
    UnsafeOut {
        path: PathBuf,
        reason: String,
        help: String,
    },
    #[error("{file} is not a valid topology ({errors} error(s) above)")]
    #[diagnostic(
        code(topology::invalid),
        help("run `foobar-infra validate -i {file}` and fix what it reports")
    )]
    Invalid { file: String, errors: usize },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Render(#[from] crate::render::RenderError),
    #[error("secret unavailable: {what}")]
    #[diagnostic(code(secret::unset), help("{help}"))]
    SecretUnset { what: String, help: String },
    #[error("{0}")]
    #[diagnostic(code(usage))]
    Usage(String),
    #[error("{} already exists", path.display())]
    #[diagnostic(
        code(init::exists),
        help("init never overwrites a file: move it away, or give init another folder (init DIR)")
    )]
    Exists { path: PathBuf },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lab(#[from] crate::lab::LabError),
    #[error("{0}")]
    #[diagnostic(
        code(apply::locked),
        help("nothing was observed or changed; the locks this run took are released")
    )]
    Locked(String),
    #[error(transparent)]
    #[diagnostic(transparent)]
    Dns(Box<crate::dns::DnsError>),
    #[error("no host holds lock {id}")]
    #[diagnostic(
        code(unlock::not_held),
        help(
            "check the ID against the one apply printed with the stale lock, and that --limit \
             leaves in the host that holds it"
        )
    )]
    NotLocked { id: String },
    #[error("{0}")]
    #[diagnostic(
        code(firewall::lockout),
        help(
            "nothing was changed: a firewall that refuses the connection loading it would lock the operator out"
        )
    )]
    Lockout(String),
    #[error("{0}")]
    #[diagnostic(
        code(replication::primary),
        help(
            "nothing was changed: the live database primary is not the topology's; edit database.primary as said, then plan again"
        )
    )]
    Primary(String),
    #[error("the saved plan is stale: {0}")]
    #[diagnostic(
        code(plan::stale),
        help("nothing was changed; make a new plan (plan --out FILE) and apply that")
    )]
    Stale(String),
}

impl From<crate::dns::DnsError> for Error {
    fn from(e: crate::dns::DnsError) -> Error {
        Error::Dns(Box::new(e))
    }
}
