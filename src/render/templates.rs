//! The tera environment: templates embedded in the binary, each overridable by a file of the same
//! relative name in a `--templates` folder. Undefined variables are errors (tera's default).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

macro_rules! embedded {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/templates/", $name)))),*]
    };
}

/// Every template the renderer uses, by relative name.
pub const EMBEDDED: &[(&str, &str)] = embedded![
    "haproxy/haproxy.cfg.tera",
    "haproxy/certificate.pem.tera",
    "haproxy/certificate.key.tera",
    "keepalived/keepalived.conf.tera",
    "keepalived/vrrp-state.sh.tera",
    "nginx/nginx.conf.tera",
    "nginx/site.conf.tera",
    "app/gunicorn.conf.py.tera",
    "app/gunicorn.service.tera",
    "app/command.service.tera",
    "app/app.env.tera",
    "app/php-fpm-pool.conf.tera",
    "mysql/server.cnf.tera",
    "mysql/bootstrap.sql.tera",
    "dns/zone.tera",
    "dns/zone.initial.tera",
    "dns/named.conf.options.tera",
    "dns/named.conf.local.tera",
    "dns/tsig.key.tera",
    "firewall/rules.nft.tera",
    "firewall/firewall.service.tera",
];

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum TemplateError {
    #[error("cannot read template override {path}")]
    #[diagnostic(code(render::template_read))]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} does not override any template")]
    #[diagnostic(code(render::unknown_template), help("{hint}"))]
    Unknown { path: PathBuf, hint: String },
    #[error("template {name} does not parse: {message}")]
    #[diagnostic(
        code(render::template_syntax),
        help("fix the template syntax (tera, Jinja2-like)")
    )]
    Syntax { name: String, message: String },
}

/// Loads the embedded templates, replaced file by file from `overrides`.
pub fn load(overrides: Option<&Path>) -> Result<tera::Tera, TemplateError> {
    let mut sources: HashMap<&str, String> = EMBEDDED
        .iter()
        .map(|(n, t)| (*n, (*t).to_string()))
        .collect();
    if let Some(dir) = overrides {
        for path in files_under(dir).map_err(|source| TemplateError::Read {
            path: dir.to_path_buf(),
            source,
        })? {
            let rel = path
                .strip_prefix(dir)
                .unwrap_or(&path)
                .to_string_lossy()
                .replace('\\', "/");
            let Some((name, _)) = EMBEDDED.iter().find(|(n, _)| *n == rel) else {
                let names: Vec<&str> = EMBEDDED.iter().map(|(n, _)| *n).collect();
                let hint = match crate::diagnostic::did_you_mean(&rel, names.iter().copied()) {
                    Some(guess) => {
                        format!("did you mean {guess}? Overrides use the embedded names")
                    }
                    None => format!("overridable templates: {}", names.join(", ")),
                };
                return Err(TemplateError::Unknown { path, hint });
            };
            let text = std::fs::read_to_string(&path).map_err(|source| TemplateError::Read {
                path: path.clone(),
                source,
            })?;
            sources.insert(name, text);
        }
    }
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![]);
    tera.register_filter("env_value", env_value);
    tera.register_filter("sql_string", sql_string);
    let mut list: Vec<(&str, String)> = sources.into_iter().collect();
    list.sort();
    tera.add_raw_templates(list)
        .map_err(|e| TemplateError::Syntax {
            name: e.to_string().split('\'').nth(1).unwrap_or("?").to_string(),
            message: error_chain(&e),
        })?;
    Ok(tera)
}

/// Regular files below `dir`, in sorted order; dot files are skipped.
fn files_under(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d)? {
            let entry = entry?;
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            let ty = entry.file_type()?;
            if ty.is_dir() {
                stack.push(entry.path());
            } else if ty.is_file() {
                out.push(entry.path());
            }
        }
    }
    out.sort();
    Ok(out)
}

/// Tera's message and all its causes on one line.
pub fn error_chain(e: &dyn std::error::Error) -> String {
    let mut parts = vec![e.to_string()];
    let mut cur = e.source();
    while let Some(c) = cur {
        parts.push(c.to_string());
        cur = c.source();
    }
    parts.dedup();
    parts.join(": ")
}

fn arg_str<'a>(value: &'a tera::Value, filter: &str) -> tera::Result<&'a str> {
    value
        .as_str()
        .ok_or_else(|| tera::Error::msg(format!("filter `{filter}` takes a string")))
}

/// A value for a systemd EnvironmentFile or php-fpm `env[]`: double-quoted and escaped.
fn env_value(value: &tera::Value, _: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let s = arg_str(value, "env_value")?;
    if s.contains(['\n', '\r', '\0']) {
        return Err(tera::Error::msg("environment values must be one line"));
    }
    let escaped = s
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('$', "\\$");
    Ok(tera::Value::String(format!("\"{escaped}\"")))
}

/// A single-quoted SQL string literal.
fn sql_string(value: &tera::Value, _: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    Ok(tera::Value::String(crate::sql::string(arg_str(
        value,
        "sql_string",
    )?)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_templates_parse() {
        load(None).unwrap();
    }

    #[test]
    fn quoting_filters_escape() {
        let none = HashMap::new();
        let v = tera::Value::String("a'b\\c".into());
        assert_eq!(sql_string(&v, &none).unwrap(), "'a''b\\\\c'");
        let v = tera::Value::String("x\"$y".into());
        assert_eq!(env_value(&v, &none).unwrap(), "\"x\\\"\\$y\"");
    }

    #[test]
    fn unknown_override_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("nginx")).unwrap();
        std::fs::write(dir.path().join("nginx/sites.conf.tera"), "x").unwrap();
        let err = load(Some(dir.path())).unwrap_err();
        assert!(matches!(err, TemplateError::Unknown { .. }), "{err}");
    }
}
