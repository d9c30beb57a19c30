//! Command-line definitions. Doc comments here are the `--help` text.

use crate::topology::{AppKind, Engine};
use crate::ui::output::ColorChoice;
use crate::ui::report::Format;
use clap::builder::{PossibleValuesParser, TypedValueParser};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

const AFTER_HELP: &str = "\
Exit codes:
  0    success (valid topology, no changes)
  1    error (invalid topology, failed command)
  2    changes present (plan --detailed-exitcode)
  130  interrupted

Environment:
  FOOBAR_INFRA_INVENTORY  default for -i/--inventory
  FOOBAR_INFRA_LAB_DIR    the lab's state folder (default ~/.local/state/foobar-infra/lab)
  NO_COLOR                plain, narrated output instead of graphics (as --color never)
  (database.password.env) the variable the topology names holds the database password
  (dns.key.secret.env)    ... the TSIG key's secret; (load_balancer.tls.key.env) the TLS key";

/// Render, check and deploy a HAProxy -> Nginx + app server -> MariaDB/MySQL web stack from one
/// YAML topology.
#[derive(Debug, Parser)]
#[command(name = "foobar-infra", version, after_help = AFTER_HELP)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub global: GlobalArgs,
}

/// Options every command takes: how its output looks.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Colours and graphics: `auto` on a terminal unless NO_COLOR is set, `always` also into a
    /// pipe or a file, `never` plain, narrated text.
    #[arg(long, value_enum, value_name = "WHEN", global = true)]
    pub color: Option<ColorChoice>,
    /// Print data and errors only: no progress, status lines or warnings.
    #[arg(long, short = 'q', global = true)]
    pub quiet: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write a starter topology into DIR (created if missing): one load balancer, N web/app
    /// servers and a database, with comments saying what to change, a random database password
    /// in secrets/ and a .gitignore that keeps it out of git. `validate` accepts it as written;
    /// an existing topology is never overwritten.
    Init(InitArgs),
    /// Check a topology: schema, references, addresses, ports, DNS, secrets. Reports every problem
    /// with file:line:column; `--check-configs` also runs haproxy, nginx, mariadbd and
    /// systemd-analyze on the rendered files.
    Validate(ValidateArgs),
    /// Write every file for every host to `--out DIR/<host>/<path>`, with a manifest.json of each
    /// host's packages, files, services and what reloads what.
    Render(RenderArgs),
    /// Real hosts on this machine to try everything on: one systemd container per topology host,
    /// with its own address and sshd, bare of the web stack (podman, or docker).
    Lab(LabArgs),
    /// Show what would change on the live hosts: packages, files (with diffs), services, the
    /// application release and database objects. Exit 2 with --detailed-exitcode when there are
    /// changes.
    Plan(PlanArgs),
    /// Make the live hosts match the topology: provision bare hosts, change files atomically
    /// (validated on the host first), reload only what changed. Asks for confirmation on a
    /// terminal; `apply PLAN_FILE` applies a saved plan exactly, refusing if a host changed since.
    Apply(ApplyArgs),
    /// Prove the chain DNS -> load balancer -> web -> app -> database on the live hosts, with
    /// checks derived from the topology: each passes, fails with its evidence, or is blocked by
    /// the failure it depends on. Exit 0 only when nothing failed or was blocked.
    Verify(VerifyArgs),
    /// Make a database replica the primary (when the primary died, or to move it): fence the old
    /// primary if it answers (read_only, MariaDB stopped), let the replica apply what it
    /// received, stop replication, make it read-write, then re-point the app servers one at a
    /// time (app env, restart, health check). Asks like apply; prints the topology edit to make
    /// (`database.primary: HOST`), which plan and apply require before they act again.
    Promote(PromoteArgs),
    /// Draw the topology: DNS records, load balancers (ports, algorithm), backends and routes,
    /// every web/app server with its weight, the database and the hosts that may reach it. As a
    /// self-contained SVG, Graphviz DOT, Mermaid (for READMEs and pull requests) or JSON;
    /// `--live` colours each node and edge by what verify's checks find on the hosts.
    Graph(GraphArgs),
    /// Break a lock left on hosts by an apply that is gone (killed, or cut off from the hosts).
    /// Only the lock with the given ID is removed; `apply` prints the ID of a stale lock.
    ForceUnlock(ForceUnlockArgs),
    /// Print the completion script of a shell on stdout (see the README for where to put it).
    Completions(CompletionsArgs),
    /// Print the man page (roff) on stdout, or write one page per command into --out DIR.
    Man(ManArgs),
    /// Print the topology's JSON Schema (draft 2020-12) on stdout: every key with its type,
    /// allowed values, default and description, for editors (yaml-language-server) and other
    /// validators. The repository keeps it as schema/topology.schema.json.
    Schema,
}

/// The starter's file name, in the folder `init` writes into.
pub const INIT_TOPOLOGY: &str = "topology.yaml";

#[derive(Debug, Args)]
pub struct InitArgs {
    /// The folder to write into; created if missing.
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
    /// The site's domain (a DNS name).
    #[arg(long, value_name = "DOMAIN", default_value = "example.com")]
    pub domain: String,
    /// Web/app servers: web-01 to web-NN.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=99))]
    pub web: u8,
    /// The database server.
    #[arg(long, value_name = "ENGINE", default_value = "mariadb", value_parser = one_of(&Engine::ALL))]
    pub db: Engine,
    /// The application server.
    #[arg(long, value_name = "KIND", default_value = "gunicorn", value_parser = one_of(&AppKind::ALL))]
    pub app: AppKind,
}

/// A value among one of the model's `(name, value)` lists (`Engine::ALL`, `AppKind::ALL`), by the
/// name the topology gives it; `--help` and completions list the names.
fn one_of<T: Copy + Send + Sync + 'static>(
    all: &'static [(&'static str, T)],
) -> impl TypedValueParser<Value = T> {
    PossibleValuesParser::new(all.iter().map(|(name, _)| *name)).try_map(move |name| {
        all.iter()
            .find(|(n, _)| *n == name)
            .map(|(_, value)| *value)
            .ok_or(format!("`{name}` is not one of the possible values"))
    })
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write foobar-infra.1 and a page per command (foobar-infra-validate.1, ...) into this
    /// folder (created if missing) instead of printing the main page.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct TopologyArgs {
    /// The topology (inventory) file.
    #[arg(
        short = 'i',
        long = "inventory",
        env = "FOOBAR_INFRA_INVENTORY",
        value_name = "FILE"
    )]
    pub inventory: PathBuf,
    /// A folder of template overrides: a file there replaces the embedded template of the same
    /// relative name (e.g. nginx/site.conf.tera).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
    /// Also render the configs and check them with the real parsers where installed
    /// (haproxy -c, nginx -t, mariadbd --help --verbose, systemd-analyze verify).
    #[arg(long)]
    pub check_configs: bool,
}

#[derive(Debug, Args)]
pub struct RenderArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Folder to write into (created if missing).
    #[arg(long, short = 'o', value_name = "DIR")]
    pub out: PathBuf,
    /// Output format of the summary: `json` prints it on stdout, `human` says it on stderr.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
    /// Container engine (default: podman if installed, else docker).
    #[arg(long, value_enum, global = true)]
    pub engine: Option<crate::lab::engine::EngineKind>,
    /// The lab's state folder: login key, host keys, known_hosts, ssh_config.
    #[arg(long, env = "FOOBAR_INFRA_LAB_DIR", value_name = "DIR", global = true)]
    pub state_dir: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human", global = true)]
    pub format: Format,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start one host per topology host (in parallel) and wait until each answers SSH; hosts that
    /// are up are left alone. Builds the base image first if its recipe changed.
    Up(LabUpArgs),
    /// Remove every lab host and the lab network (the image and the keys stay).
    Down,
    /// Every lab host with its address, roles and state.
    Status,
    /// Hard-stop one host (a failure drill).
    Stop {
        /// Host name, as in the topology.
        host: String,
    },
    /// Start a stopped host again and wait for SSH.
    Start {
        /// Host name, as in the topology.
        host: String,
    },
}

#[derive(Debug, Args)]
pub struct LabUpArgs {
    /// The topology (inventory) file.
    #[arg(
        short = 'i',
        long = "inventory",
        default_value = "inventories/lab.yaml",
        value_name = "FILE"
    )]
    pub topology_inventory: PathBuf,
    /// Replace the web/app hosts by N of them (web-01..web-NN); the scaled topology is written
    /// into the state folder and its path printed.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=200))]
    pub web: Option<u16>,
    /// Hosts brought up at once.
    #[arg(long, default_value_t = 8)]
    pub parallel: usize,
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Only these hosts (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub limit: Vec<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
    /// Exit 0 when nothing would change, 2 when something would, 1 on error.
    #[arg(long)]
    pub detailed_exitcode: bool,
    /// Save the plan (no secrets in it) for `foobar-infra apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    Human,
    Json,
    Junit,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Only the checks of these hosts (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub limit: Vec<String>,
    /// Keep checking until everything passes or this much time has gone by (e.g. 60s, 2m):
    /// for CI right after apply.
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub wait: Option<std::time::Duration>,
    /// Hosts connected to at once.
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
    /// Output format: `junit` is JUnit XML, one test case per check, for CI systems.
    #[arg(long, value_enum, default_value = "human")]
    pub format: VerifyFormat,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GraphFormat {
    /// A self-contained SVG picture, laid out without any other program.
    Svg,
    /// Graphviz DOT, for `dot -Tpng` and friends.
    Dot,
    /// A Mermaid flowchart, drawn by GitHub and GitLab in Markdown.
    Mermaid,
    /// The graph itself: nodes, edges, clusters and, with --live, their states.
    Json,
}

#[derive(Debug, Args)]
pub struct GraphArgs {
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Output format, written to stdout.
    #[arg(long, value_enum, default_value = "svg")]
    pub format: GraphFormat,
    /// Ask the hosts, as verify does (SSH, the database password), and colour every node and
    /// edge: green up, amber drained, red down, grey unknown (not checked, or blocked by a failure
    /// elsewhere).
    #[arg(long)]
    pub live: bool,
    /// Hosts connected to at once (--live).
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
}

/// `90`, `90s`, `2m`, `500ms`.
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    let t = text.trim();
    let (number, unit) = t
        .find(|c: char| !c.is_ascii_digit())
        .map_or((t, "s"), |i| (&t[..i], &t[i..]));
    let n: u64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: write it like 30s, 2m or 500ms"))?;
    match unit {
        "ms" => Ok(std::time::Duration::from_millis(n)),
        "s" => Ok(std::time::Duration::from_secs(n)),
        "m" => Ok(std::time::Duration::from_secs(n * 60)),
        _ => Err(format!("`{text}`: the unit must be ms, s or m")),
    }
}

#[derive(Debug, Args)]
pub struct ForceUnlockArgs {
    /// The lock's ID, as `apply` reports it.
    #[arg(value_name = "LOCK_ID")]
    pub id: String,
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Only these hosts (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub limit: Vec<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A plan saved with `plan --out FILE` (then -i is not needed).
    #[arg(value_name = "PLAN_FILE")]
    pub plan: Option<PathBuf>,
    #[command(flatten)]
    pub topology: OptionalTopologyArgs,
    /// Apply without asking (for scripts and CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// Serving web/app servers changed at once, after a canary of one; each is drained from its
    /// load balancers while it changes.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub batch: u64,
    /// The longest a drained server's open sessions are waited for (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "30s", value_parser = parse_duration)]
    pub drain_timeout: std::time::Duration,
    /// How long after this run was last heard of (it renews its locks every 5 s) a host in the
    /// middle of a change puts the change back by itself, and its load balancers put it back
    /// into service: for when the run's machine or connection dies.
    #[arg(long, value_name = "DURATION", default_value = "60s", value_parser = parse_duration)]
    pub confirm_timeout: std::time::Duration,
    /// Only these hosts (comma-separated or repeated).
    #[arg(long, value_delimiter = ',', value_name = "HOSTS")]
    pub limit: Vec<String>,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
    /// Output format of the final report.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}

#[derive(Debug, Args)]
pub struct OptionalTopologyArgs {
    /// The topology (inventory) file.
    #[arg(
        short = 'i',
        long = "inventory",
        env = "FOOBAR_INFRA_INVENTORY",
        value_name = "FILE"
    )]
    pub inventory: Option<PathBuf>,
    /// A folder of template overrides (see `render --help`).
    #[arg(long, value_name = "DIR")]
    pub templates: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct PromoteArgs {
    /// The replica to make the primary (a host with the `db` role that is not database.primary).
    #[arg(value_name = "HOST")]
    pub host: String,
    #[command(flatten)]
    pub topology: TopologyArgs,
    /// Promote without asking (for scripts and CI).
    #[arg(long)]
    pub auto_approve: bool,
    /// The longest a drained app server's open sessions are waited for (e.g. 30s, 2m).
    #[arg(long, value_name = "DURATION", default_value = "10s", value_parser = parse_duration)]
    pub drain_timeout: std::time::Duration,
    /// Hosts worked on at once.
    #[arg(long, default_value_t = 32)]
    pub forks: usize,
    /// Output format of the report.
    #[arg(long, value_enum, default_value = "human")]
    pub format: Format,
}
