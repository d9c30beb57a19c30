//! The keys of `app`.

use super::{Absent, Key, Rule, Section, Shape, names};
use crate::topology::load::grammar::{
    APP_LISTEN, APP_USER, COMMAND, ENV_NAME, ENV_VALUE, HOST_NAME, LOCAL_PATH, PACKAGE,
    PHP_VERSION, PYTHON_ENTRY, RELEASE_PATH,
};
use crate::topology::model::AppKind;

const KINDS: [&str; 3] = names(&AppKind::ALL);

pub const APP: Section = Section {
    name: "app",
    table: true,
    rules: &[Rule::When {
        key: "kind",
        is: Some(r#""command""#),
        then: "command",
        then_is: None,
    }],
    keys: &[
        Key {
            name: "name",
            shape: Shape::Text(HOST_NAME),
            default: Absent::Derived(
                "first label of `domain` that is not `www`, lower-cased (`foobar` for \
                 `foobar.com`)",
            ),
            ty: "letters, digits, `-`",
            meaning: "Names the systemd unit `NAME-app.service`, `/srv/NAME`, `/etc/NAME` and the \
                      Nginx site.",
        },
        Key {
            name: "kind",
            shape: Shape::Choice(&KINDS),
            default: Absent::Value(r#""gunicorn""#),
            ty: "`gunicorn`, `php-fpm`, `command`",
            meaning: "The application server.",
        },
        Key {
            name: "listen",
            shape: Shape::AnyOf(&[Shape::PORT, Shape::Text(APP_LISTEN)]),
            default: Absent::Derived("`127.0.0.1:8000`; for `php-fpm` `unix:/run/php/NAME.sock`"),
            ty: "see below",
            meaning: "Where the application server listens on its host.",
        },
        Key {
            name: "workers",
            shape: Shape::Int { min: 1, max: 256 },
            default: Absent::Value("2"),
            ty: "1..256",
            meaning: "gunicorn `workers`; php-fpm `pm.max_children` (`pm = static`).",
        },
        Key {
            name: "module",
            shape: Shape::Text(PYTHON_ENTRY.schema),
            default: Absent::Value(r#""app:application""#),
            ty: "Python module path: dotted Python names, optionally `:callable`",
            meaning: "gunicorn's WSGI entry point.",
        },
        Key {
            name: "command",
            shape: Shape::Text(COMMAND.schema),
            default: Absent::Derived("required for `command`"),
            ty: "systemd command line (see below)",
            meaning: "Program to run. A leading `./` is resolved against the release directory \
                      `/srv/NAME/current`. It gets `LISTEN=<endpoint>` in its environment.",
        },
        Key {
            name: "script",
            shape: Shape::Text(RELEASE_PATH.schema),
            default: Absent::Value(r#""index.php""#),
            ty: "path inside the release: names of letters, digits, `.`, `_`, `-` separated by \
                 single `/`; no leading `/`, no `.` or `..`; at most 4000 characters",
            meaning: "php-fpm front controller, relative to the release directory.",
        },
        Key {
            name: "php_version",
            shape: Shape::Text(PHP_VERSION.schema),
            default: Absent::Value(r#""8.2""#),
            ty: "`MAJOR.MINOR`, one or two digits each (`8.2`)",
            meaning: "Selects `phpX.Y-fpm`, `phpX.Y-mysql` and `/etc/php/X.Y/fpm/pool.d/`.",
        },
        Key {
            name: "environment",
            shape: Shape::Named {
                name: ENV_NAME.schema,
                value: &Shape::Text(ENV_VALUE),
            },
            default: Absent::None,
            ty: "mapping",
            meaning: "Extra variables for the application. Names are letters, digits and `_`, \
                      not starting with a digit; values are one line of printable text (no \
                      control characters: no line break, carriage return, tab or NUL), in which \
                      quotes, `\\` and `$` are fine (escaped for `app.env` and php-fpm, which \
                      read them back as written); scalars keep their spelling (`off` stays \
                      `off`).",
        },
        Key {
            name: "source",
            shape: Shape::Text(LOCAL_PATH.schema),
            default: Absent::None,
            ty: "path, one line",
            meaning: "Directory of application files; must exist. Hashed into a \
                      content-addressed release (paths, executable bits, contents; `.git` and \
                      `__pycache__` skipped, symbolic links refused).",
        },
        Key {
            name: "user",
            shape: Shape::Text(APP_USER.schema),
            default: Absent::Derived("`app.name` (which must then fit too)"),
            ty: "unprivileged system user: `[a-z_][a-z0-9_-]`, at most 31 characters (systemd's \
                 strict rule), not `root`",
            meaning: "System user the application runs as.",
        },
        Key {
            name: "packages",
            shape: Shape::List {
                item: &Shape::Text(PACKAGE),
                unique: false,
            },
            default: Absent::None,
            ty: "list of Debian package names",
            meaning: "Extra packages for app hosts (e.g. `python3-pymysql`).",
        },
    ],
};
