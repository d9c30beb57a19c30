//! Path values shared by several sections: URL paths and absolute filesystem paths.

use crate::diagnostic::Problem;
use crate::topology::decode::{Decoder, Sp};
use crate::topology::node::Node;

/// An absolute URL path such as `/static/`.
pub(super) fn url_path(node: &Node, what: &str, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, what)?;
    let ok = s.starts_with('/')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c == ';' || c == '"' || c == '{' || c == '}');
    if !ok {
        d.push(
            Problem::error(
                "topology::invalid-value",
                s.span,
                format!("{what}: `{}` is not a URL path", s.value),
            )
            .label("must start with '/' and contain no spaces, quotes, braces or ';'")
            .help("write it like /static/ or /healthz"),
        );
        return None;
    }
    Some(s)
}

/// An absolute filesystem path on the host.
pub(super) fn abs_path(node: &Node, what: &str, d: &mut Decoder) -> Option<Sp<String>> {
    let s = d.name(node, what)?;
    let ok = s.starts_with('/')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "'\";{}$`\\".contains(c))
        && !s.split('/').any(|part| part == "..");
    if !ok {
        d.push(
            Problem::error(
                "topology::invalid-value",
                s.span,
                format!("{what}: `{}` is not a plain absolute path", s.value),
            )
            .label("must be absolute, without '..', spaces or quotes")
            .help("write it like /var/www/foobar"),
        );
        return None;
    }
    Some(s)
}
