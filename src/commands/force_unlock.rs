//! `force-unlock LOCK_ID`: removes the lock with that ID from the hosts that hold it, and only
//! that lock (as Terraform's `force-unlock`): for a run that is gone without releasing it.

use crate::apply::lock;
use crate::cli::ForceUnlockArgs;
use crate::{Error, ExitStatus, fleet};

pub fn run(args: &ForceUnlockArgs) -> Result<ExitStatus, Error> {
    if args.id.is_empty() || !args.id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(Error::Usage(format!(
            "`{}` is not a lock ID: apply prints it (16 hexadecimal digits) when it finds a stale lock",
            args.id
        )));
    }
    let p = crate::commands::prepare(&args.topology.inventory, args.topology.templates.as_deref())?;
    let hosts = p.select(&args.limit)?;
    let rt = crate::commands::runtime()?;
    let conns = rt.block_on(fleet::connect(&p, &hosts, args.forks));
    let mut released = Vec::new();
    let mut failed = 0;
    for (h, conn) in hosts.iter().zip(&conns) {
        match conn {
            Ok(c) => match rt.block_on(lock::release(c.as_ref(), &args.id)) {
                Ok(true) => released.push(h.name.clone()),
                Ok(false) => {}
                Err(e) => {
                    failed += 1;
                    crate::ui::print_diagnostic(&e);
                }
            },
            Err(e) => {
                failed += 1;
                crate::ui::print_diagnostic(e);
            }
        }
    }
    rt.block_on(crate::transport::close_all(conns.into_iter().flatten()));
    if released.is_empty() {
        return Err(Error::NotLocked {
            id: args.id.clone(),
        });
    }
    crate::ui::info(format_args!(
        "Released lock {} on {}.",
        args.id,
        released.join(", ")
    ));
    Ok(if failed > 0 {
        ExitStatus::Error
    } else {
        ExitStatus::Success
    })
}
